// pnpm test:runtimes: packs the packages, installs the tarballs into a throwaway consumer
// project, and runs one smoke scenario through every adapter on every runtime the README names.
// Prints runtime × adapter with the token-request counts; exits 1 if any cell failed.
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { judge, type Mode, type SmokeCell, type Verdict } from './judge'
import {
  ADAPTERS,
  type Adapter,
  browserSession,
  CJS_ADAPTERS,
  COMMON_ADAPTERS,
  processRuntimes,
  type Runner,
  UNDICI_RUNTIMES,
  VERSIONS,
  versionOf,
  WORKERD_DATES,
  workerdSession,
} from './runtimes'
import { API_KEY, SECRET, startServers } from './servers'
import {
  BINARIES,
  CLIENTS,
  children,
  installChromium,
  installTools,
  kill,
  makeConsumer,
} from './setup'

/** The whole run ends by itself after this long, whatever is still running. */
const DEADLINE = 285_000
/** Cells run at once (the machine has 2 cores). */
const CONCURRENCY = 2
const MODES: readonly Mode[] = ['bearer', 'static']

interface Row {
  id: string
  label: string
  adapters: readonly Adapter[]
  browser: boolean
  runner?: Runner | undefined
  /** Why the whole row fails (not installed, wrong version, did not start). */
  failure?: string | undefined
  /** Why the row has no cell for an adapter, by adapter. */
  absent: Partial<Record<Adapter, string>>
}

interface Cell {
  row: Row
  adapter: Adapter
  verdicts?: Verdict[]
  failure?: string
}

const started = Date.now()
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
const log = (message: string) => console.log(`[${seconds()}] ${message}`)

let workDir: string | undefined
const stopAll = () => {
  for (const child of children) kill(child)
  if (workDir) rmSync(workDir, { recursive: true, force: true })
}
const deadline = setTimeout(() => {
  console.error(`test:runtimes: still running after ${DEADLINE / 1000} s; stopping`)
  stopAll()
  process.exit(1)
}, DEADLINE)
deadline.unref()

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth-interceptors-runtimes-'))
  workDir = dir
  const cleanups: Array<() => unknown> = [() => rm(dir, { recursive: true, force: true })]
  try {
    return await matrix(dir, cleanups)
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {})
  }
}

async function matrix(dir: string, cleanups: Array<() => unknown>): Promise<number> {
  log(`installing the runtimes, Debian's chromium and the consumer project (${dir})`)
  const consumer = join(dir, 'consumer')
  const [tools, browserInstall, consumerFailure] = await Promise.all([
    installTools(),
    installChromium(),
    makeConsumer(dir),
  ])
  if (consumerFailure) {
    console.error(`test:runtimes: ${consumerFailure}`)
    return 1
  }
  log('installed')

  const servers = await startServers()
  cleanups.push(() => servers.close())
  const urls = { token: servers.urls.token, api: servers.urls.api, foreign: servers.urls.foreign }

  const rows: Row[] = []
  const notes: string[] = []
  const process_ = processRuntimes(consumer)
  const pinned = async (name: keyof typeof VERSIONS, command: string, args?: string[]) => {
    if (tools) return { failure: `cannot be installed: ${tools}`, version: VERSIONS[name] }
    const reported = await versionOf(command, args)
    const ok = reported.replace(/^v|^deno |^workerd /, '').startsWith(VERSIONS[name])
    return {
      version: VERSIONS[name],
      failure: ok ? undefined : `expected ${VERSIONS[name]}, got "${reported}"`,
    }
  }
  /** A process runtime's adapters, and why the others are missing. */
  const processRow = (name: string, module: 'esm' | 'cjs') => {
    const undici = UNDICI_RUNTIMES.includes(name)
    return {
      adapters: [
        ...(module === 'esm' ? COMMON_ADAPTERS : CJS_ADAPTERS),
        ...(undici ? ['undici' as const] : []),
      ],
      absent: {
        ...(module === 'cjs' && { ky1: 'ESM only', ky2: 'ESM only' }),
        ...(!undici && { undici: 'not on Bun' }),
        store: 'browsers only',
      },
    }
  }
  const node20 = process.version.startsWith('v20.')
    ? undefined
    : `expected the machine's Node 20, got ${process.version}`
  for (const module of ['esm', 'cjs'] as const) {
    rows.push({
      id: `node20-${module}`,
      label: `Node ${process.version.slice(1)} ${module}`,
      ...processRow('node20', module),
      browser: false,
      runner: process_.node20(module),
      failure: node20,
    })
  }
  for (const [name, label] of [
    ['node22', 'Node'],
    ['node24', 'Node'],
    ['bun', 'Bun'],
    ['deno', 'Deno'],
  ] as const) {
    const { version, failure } = await pinned(name, BINARIES[name])
    for (const module of ['esm', 'cjs'] as const) {
      rows.push({
        id: `${name}-${module}`,
        label: `${label} ${version} ${module}`,
        ...processRow(name, module),
        browser: false,
        runner: process_[name](module),
        failure,
      })
    }
  }

  // Headless Chromium.
  const chromiumRow: Row = {
    id: 'chromium',
    label: 'Chromium',
    adapters: [...COMMON_ADAPTERS, 'store'],
    absent: { undici: 'Node only' },
    browser: true,
  }
  rows.push(chromiumRow)
  if (browserInstall) {
    chromiumRow.failure = `cannot be installed: ${browserInstall}`
  } else {
    try {
      const session = await browserSession(consumer, servers.urls.page, servers.setPage)
      cleanups.push(session.close)
      chromiumRow.label = `Chromium ${session.version.split('.')[0]} esm`
      chromiumRow.runner = session.runner
      if (!session.version.startsWith(VERSIONS.chromium)) {
        chromiumRow.failure = `expected Chromium ${VERSIONS.chromium}, got ${session.version}`
      }
    } catch (error) {
      chromiumRow.failure = `did not start: ${String(error).split('\n')[0]}`
    }
  }

  // workerd, at an old and at the current compatibility date.
  const workerd = await pinned('workerd', BINARIES.workerd)
  for (const [which, date] of Object.entries(WORKERD_DATES)) {
    const row: Row = {
      id: `workerd-${date}`,
      label: `workerd ${workerd.version} (compat ${date}, ${which}) esm`,
      adapters: COMMON_ADAPTERS,
      // workerd has no Web Locks (navigator.locks), which the browser store needs.
      absent: { undici: 'Node only', store: 'browsers only' },
      browser: false,
      failure: workerd.failure,
    }
    rows.push(row)
    if (row.failure) continue
    try {
      const session = await workerdSession(consumer, join(dir, row.id), date)
      cleanups.push(session.close)
      row.runner = session.runner
      // What the platform does by itself decides what this row proves: the old date must keep
      // Authorization on a cross-origin 302 (so the adapters' not sending it is theirs).
      const probe = `probe-${row.id}`
      await session.probe(`${servers.urls.api}/probe-redirect?cell=${probe}`)
      const kept = servers.record(probe).foreign[0]?.authorization !== undefined
      const expected = which === 'old'
      notes.push(
        `workerd at compatibility date ${date}: its own fetch ${kept ? 'keeps' : 'drops'} Authorization on a cross-origin 302`,
      )
      if (kept !== expected) {
        row.failure = `expected the platform to ${expected ? 'keep' : 'drop'} Authorization on a cross-origin 302 at ${date}`
      }
    } catch (error) {
      row.failure = String(error)
    }
  }
  log(`servers and sessions ready; running ${rows.length} runtimes × ${ADAPTERS.length} adapters`)

  const cells: Cell[] = []
  const jobs: Array<() => Promise<void>> = []
  for (const row of rows) {
    for (const adapter of ADAPTERS) {
      if (!row.adapters.includes(adapter)) continue
      const cell: Cell = { row, adapter }
      cells.push(cell)
      if (row.failure || !row.runner) {
        cell.failure = row.failure ?? 'no runner'
        continue
      }
      const runner = row.runner
      jobs.push(async () => {
        const smokeCells: SmokeCell[] = MODES.map((mode) => ({
          client: `${row.id}-${adapter}-${mode}`,
          adapter,
          mode,
          browser: row.browser,
          urls,
          secret: SECRET,
          apiKey: API_KEY,
        }))
        const out = await runner(smokeCells)
        if (!out.results) {
          cell.failure = out.failure ?? 'no result'
          return
        }
        cell.verdicts = smokeCells.map((smokeCell, index) =>
          judge(
            smokeCell,
            out.results?.[index],
            servers.record(smokeCell.client),
            servers.record(`${smokeCell.client}-moved`),
            servers.urls.token,
          ),
        )
      })
    }
  }
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]
        await job?.()
      }
    }),
  )
  return report(rows, cells, notes)
}

function report(rows: Row[], cells: Cell[], notes: string[]): number {
  const names: Record<Adapter, string> = {
    axios: `axios ${CLIENTS.axios}`,
    ky1: `ky ${CLIENTS.ky}`,
    ky2: `ky ${CLIENTS.ky2.replace('npm:ky@', '')}`,
    ofetch: `ofetch ${CLIENTS.ofetch}`,
    fetch: 'fetch',
    undici: `undici ${CLIENTS.undici}`,
    store: 'fetch + browserTokenStore',
  }
  const failures: string[] = []
  const text = (row: Row, adapter: Adapter): string => {
    if (!row.adapters.includes(adapter)) return `— ${row.absent[adapter] ?? 'n/a'}`
    const cell = cells.find((c) => c.row === row && c.adapter === adapter)
    if (!cell) return '✗ not run'
    if (cell.failure || !cell.verdicts) {
      failures.push(`${row.label} / ${names[adapter]}: ${cell.failure}`)
      return '✗ failed'
    }
    const [bearer, statics] = cell.verdicts
    cell.verdicts.forEach((verdict, index) => {
      for (const problem of verdict.problems) {
        failures.push(`${row.label} / ${names[adapter]} / ${MODES[index]}: ${problem}`)
      }
    })
    const ok = cell.verdicts.every((verdict) => verdict.problems.length === 0)
    return `${ok ? '✓' : '✗'} ${bearer?.tokens.join('/')} +${statics?.tokens.join('/')}`
  }
  const header = ['runtime', ...ADAPTERS.map((adapter) => names[adapter])]
  const body = rows.map((row) => [row.label, ...ADAPTERS.map((adapter) => text(row, adapter))])
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((line) => (line[column] ?? '').length)),
  )
  const line = (cellsOfLine: string[]) =>
    `| ${cellsOfLine.map((value, column) => value.padEnd(widths[column] ?? 0)).join(' | ')} |`
  console.log('')
  console.log(line(header))
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`)
  for (const row of body) console.log(line(row))
  console.log('')
  console.log(
    'Each cell: token requests after the cold burst / after the revoke / after the expiry, then +N in static-header mode (cold burst). ✓: every check passed: bursts of 8 share one token request, a revoked token is replaced once, an expiring one before any 401, nothing reaches a foreign origin or the far side of a cross-origin 302 with credentials, and a redirecting token endpoint is refused.',
  )
  for (const note of notes) console.log(`Note: ${note}.`)
  if (failures.length) {
    console.log('')
    console.log(`${failures.length} failed:`)
    for (const failure of failures) console.log(`  ✗ ${failure}`)
  }
  const total = cells.length
  const failed = cells.filter(
    (cell) =>
      cell.failure ||
      !cell.verdicts ||
      cell.verdicts.some((verdict) => verdict.problems.length > 0),
  ).length
  console.log(`\ntest:runtimes: ${total - failed} of ${total} cells passed in ${seconds()}`)
  return failed === 0 ? 0 : 1
}

main().then(
  (code) => {
    clearTimeout(deadline)
    stopAll()
    process.exit(code)
  },
  (error: unknown) => {
    console.error(error)
    stopAll()
    process.exit(1)
  },
)
