import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { launchChromium } from '@oauth-interceptors/demo-servers/chromium'
import { build } from 'esbuild'
import type { SmokeCell, SmokeResult } from './judge'
import { BINARIES, kill, run, tail } from './setup'

/**
 * The adapters, one column each; ky runs as ky 1 and as ky 2. `store` is the fetch adapter with
 * a `browserTokenStore` (@oauth-interceptors/browser) as the manager's store.
 */
export const ADAPTERS = ['axios', 'ky1', 'ky2', 'ofetch', 'fetch', 'undici', 'store'] as const
export type Adapter = (typeof ADAPTERS)[number]
/** The adapters every runtime runs: undici and the browser store only where they apply. */
export const COMMON_ADAPTERS: readonly Adapter[] = ['axios', 'ky1', 'ky2', 'ofetch', 'fetch']
/** The adapters whose package and client ship CommonJS (ky is ESM only). */
export const CJS_ADAPTERS: readonly Adapter[] = ['axios', 'ofetch', 'fetch']
/**
 * undici is a Node.js HTTP client (sockets through `node:net`), and Bun answers
 * `import 'undici'` with a module of its own, whose Agent has no `compose()`; so the interceptor
 * runs on Node.js and Deno (npm's undici over `node:net`).
 */
export const UNDICI_RUNTIMES = ['node20', 'node22', 'node24', 'deno']

/** Pinned versions: a runtime that reports another version fails its row. */
export const VERSIONS = {
  node20: '20',
  node22: '22.23.5',
  node24: '24.22.3',
  bun: '1.4.5',
  deno: '2.9.6',
  chromium: '156',
  workerd: '2026-11-23',
}

/**
 * workerd's compatibility dates: before 2025-09-01 the platform keeps `Authorization` on a
 * cross-origin redirect (no `strip_authorization_on_cross_origin_redirect`); the current date is
 * the newest this workerd supports.
 */
export const WORKERD_DATES = { old: '2025-08-31', current: '2026-11-23' }

/** Runs `cells` (one adapter, both modes) on a runtime; `undefined` results and a reason on failure. */
export type Runner = (
  cells: SmokeCell[],
) => Promise<{ results?: SmokeResult[]; failure?: string; note?: string }>

/** Reads the JSON line an entry prints. */
function parse(stdout: string): { results?: SmokeResult[]; fatal?: string } | undefined {
  const line = stdout.trim().split('\n').at(-1) ?? ''
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

/** A runtime that runs the entry file as a process, in the consumer project. */
export function processRunner(
  consumer: string,
  command: string,
  args: (adapter: Adapter, entry: string) => string[],
  module: 'esm' | 'cjs',
): Runner {
  return async (cells) => {
    const adapter = cells[0]?.adapter as Adapter
    const entry = module === 'esm' ? 'entry.mjs' : 'entry.cjs'
    const ran = await run(command, [...args(adapter, entry), JSON.stringify(cells)], {
      cwd: consumer,
      timeout: 60_000,
      env: {
        ...process.env,
        DENO_NO_UPDATE_CHECK: '1',
        DENO_NO_PROMPT: '1',
        NO_COLOR: '1',
      },
    })
    const output = parse(ran.stdout)
    if (ran.code !== 0 || !output?.results) {
      return { failure: output?.fatal ?? tail(ran) }
    }
    return { results: output.results }
  }
}

/** What each process runtime is started with. */
export function processRuntimes(consumer: string) {
  const plain = (_adapter: Adapter, entry: string) => [entry]
  // Deno: network to the loopback only. axios reads the environment (proxy settings), undici too, and
  // ofetch's CommonJS build reads FORCE_NODE_FETCH (node-fetch-native): only they get env access.
  const deno = (adapter: Adapter, entry: string) => [
    'run',
    '--no-prompt',
    '--allow-net=127.0.0.1',
    // undici reads JEST_WORKER_ID (and other variables) when it loads.
    ...(adapter === 'axios' || adapter === 'undici' ? ['--allow-env'] : []),
    ...(adapter === 'ofetch' && entry.endsWith('.cjs') ? ['--allow-env=FORCE_NODE_FETCH'] : []),
    entry,
  ]
  return {
    node20: (module: 'esm' | 'cjs') => processRunner(consumer, process.execPath, plain, module),
    node22: (module: 'esm' | 'cjs') => processRunner(consumer, BINARIES.node22, plain, module),
    node24: (module: 'esm' | 'cjs') => processRunner(consumer, BINARIES.node24, plain, module),
    bun: (module: 'esm' | 'cjs') => processRunner(consumer, BINARIES.bun, plain, module),
    deno: (module: 'esm' | 'cjs') => processRunner(consumer, BINARIES.deno, deno, module),
  }
}

/** The version each runtime reports. */
export async function versionOf(command: string, args = ['--version']): Promise<string> {
  const ran = await run(command, args, { timeout: 20_000 })
  return `${ran.stdout}${ran.stderr}`.trim().split('\n')[0] ?? ''
}

/** Bundles the page script as a user's bundler would (browser conditions). */
async function bundle(consumer: string, entry: string, conditions: string[]): Promise<string> {
  const out = await build({
    absWorkingDir: consumer,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return out.outputFiles[0]?.text ?? ''
}

/**
 * Headless Chromium: the page on its own origin, the API, the token endpoint and the foreign
 * origin each on another (CORS). One page per adapter; returns a runner per adapter.
 */
export async function browserSession(
  consumer: string,
  pageUrl: string,
  setPage: (html: string, script: string) => void,
): Promise<{ runner: Runner; version: string; close: () => Promise<void> }> {
  const script = await bundle(consumer, 'page.mjs', [])
  setPage(
    '<!doctype html><title>smoke</title><script type="module" src="/page.js"></script>',
    script,
  )
  const browser = await launchChromium(30_000)
  const version = browser.version()
  const runner: Runner = async (cells) => {
    const page = await browser.newPage()
    const logs: string[] = []
    page.on('pageerror', (error) => logs.push(String(error)))
    try {
      await page.goto(pageUrl, { timeout: 20_000 })
      await page.waitForFunction(() => 'runCells' in globalThis, undefined, { timeout: 20_000 })
      const results = (await page.evaluate(
        (input) => (globalThis as unknown as { runCells: (c: unknown) => unknown }).runCells(input),
        cells,
      )) as SmokeResult[]
      return { results }
    } catch (error) {
      return { failure: `${String(error).split('\n')[0]} ${logs.join('; ')}` }
    } finally {
      await page.close()
    }
  }
  return { runner, version, close: () => browser.close() }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * workerd with the worker bundled by esbuild (workerd and worker conditions) at one
 * compatibility date, allowed to reach the loopback servers. Returns a runner per adapter.
 */
export async function workerdSession(
  consumer: string,
  dir: string,
  date: string,
): Promise<{ runner: Runner; probe: (url: string) => Promise<number>; close: () => void }> {
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, 'worker.js'),
    await bundle(consumer, 'worker.mjs', ['workerd', 'worker']),
  )
  const port = await freePort()
  await writeFile(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "${date}",
);
`,
  )
  let output = ''
  let child: Parameters<typeof kill>[0] | undefined
  const done = run(BINARIES.workerd, ['serve', join(dir, 'config.capnp')], {
    cwd: dir,
    timeout: 180_000,
    onSpawn: (spawned) => {
      child = spawned
    },
  }).then((ran) => {
    output = tail(ran)
  })
  const base = `http://127.0.0.1:${port}/`
  const started = Date.now()
  let ready = false
  while (!ready && Date.now() - started < 20_000 && !output) {
    ready = await fetch(base)
      .then((r) => r.ok)
      .catch(() => false)
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const close = () => {
    if (child) kill(child)
  }
  if (!ready) {
    close()
    await done
    throw new Error(`workerd did not start: ${output}`)
  }
  const runner: Runner = async (cells) => {
    try {
      const response = await fetch(`${base}?cells=${encodeURIComponent(JSON.stringify(cells))}`, {
        signal: AbortSignal.timeout(60_000),
      })
      const body = (await response.json()) as { results?: SmokeResult[]; fatal?: string }
      return body.results ? { results: body.results } : { failure: body.fatal ?? 'no result' }
    } catch (error) {
      return { failure: `${String(error)} ${output}` }
    }
  }
  const probe = async (url: string) => {
    const response = await fetch(`${base}?probe=${encodeURIComponent(url)}`, {
      signal: AbortSignal.timeout(20_000),
    })
    return ((await response.json()) as { status: number }).status
  }
  return { runner, probe, close }
}
