/**
 * `pnpm bench`: every scenario of issue 6 in one run, a markdown table on stdout, and
 * bench/RESULTS.md. The package script builds the workspace packages first and runs this with
 * `node --import tsx --expose-gc`: our packages are measured as they ship (their dist/ builds),
 * the benchmark's own TypeScript runs through tsx.
 *
 * Flags (for working on the benchmark; a run with flags does not write RESULTS.md):
 *   --only=bursts,overhead,get-token,client-auth,cpu,dpop,bundle,memory,sessions   run only these scenarios
 *   --quick                                               smaller counts, for a smoke run
 *   --compare=<git ref>                                   only 2c, against that ref in the same process
 *   --compare-dir=<dir>                                   with --compare: the ref's checkout, installed and built there
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { runBundles } from './bundle'
import { runBursts } from './bursts'
import { runClientAuth } from './client-auth'
import { bare, ours, peers } from './clients'
import { renderCompare, runCompare } from './compare'
import { runCpu } from './cpu'
import { runDPoP } from './dpop'
import { runGetToken } from './get-token'
import { runHeap, runKeys } from './memory'
import { runOverhead } from './overhead'
import { type Machine, type Results, render } from './report'
import { startServer } from './server-control'
import { runSessions } from './sessions'

const SCENARIOS = [
  'bursts',
  'overhead',
  'get-token',
  'client-auth',
  'cpu',
  'dpop',
  'bundle',
  'memory',
  'sessions',
] as const
type Scenario = (typeof SCENARIOS)[number]

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',') as Scenario[] | undefined
const selected = (name: Scenario) => !only || only.includes(name)

/** Counts and limits; every scenario is bounded in count and in time. */
const plan = quick
  ? {
      burst: { size: 200, deadlineMs: 10_000 },
      overhead: { concurrency: 16, requests: 100, rounds: 4, budgetMs: 1_000 },
      getTokenMs: 100,
      cpu: { requests: 200, rounds: 2 },
      dpop: { requests: 200, rounds: 3 },
      heapRequests: 5_000,
      keys: 1_000,
      deadlineMs: 120_000,
    }
  : {
      burst: { size: 1_000, deadlineMs: 15_000 },
      overhead: { concurrency: 16, requests: 100, rounds: 60, budgetMs: 7_000 },
      getTokenMs: 500,
      // 2c's differences are a few µs: many rounds, ~40 s on a busy 2-core machine.
      cpu: { requests: 500, rounds: 40 },
      // A proof costs tens of µs, far above 2c's noise: fewer rounds do.
      dpop: { requests: 500, rounds: 12 },
      heapRequests: 100_000,
      keys: 10_000,
      deadlineMs: 270_000,
    }

/** What the scenarios after the overhead one take on a busy machine (~165 s at load 10). */
const RESERVE_MS = quick ? 40_000 : 170_000

function machine(): Machine {
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadBefore: loadavg()[0] ?? 0,
    loadAfter: 0,
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    seconds: 0,
  }
}

/** The hand-written section RESULTS.md keeps across runs. */
const PROFILES_HEADING = '## 5. Where the added CPU and bytes are (profiles)'

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

const compare = args.find((arg) => arg.startsWith('--compare='))?.slice('--compare='.length)

async function main(): Promise<void> {
  if (compare) {
    const dir = args.find((arg) => arg.startsWith('--compare-dir='))?.slice('--compare-dir='.length)
    const results = await runCompare(compare, { requests: 2_000, rounds: quick ? 4 : 40 }, dir)
    process.stdout.write(`${renderCompare(compare, results)}\n`)
    return
  }
  const started = performance.now()
  const info = machine()
  const results: Results = { quick, burstSize: plan.burst.size }
  const clients = [...ours, ...peers]
  results.setups = clients.map((client) => [client.name, client.setup])
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const at = performance.now()
    log(`${name}…`)
    const value = await run()
    log(`${name}: ${((performance.now() - at) / 1000).toFixed(1)} s`)
    return value
  }

  if (selected('bursts') || selected('overhead')) {
    const server = await startServer()
    try {
      if (selected('bursts')) {
        results.bursts = await timed('bursts', async () => {
          // Open the keep-alive sockets first, so the first client measured pays no more than the others.
          const token = await server.token()
          for (const base of new Set(clients.map((client) => client.base))) {
            const client = bare(base, server.env, token)
            await Promise.all(
              Array.from({ length: plan.burst.size }, () => client.get('/api/data').catch(() => 0)),
            )
            await client.close?.()
          }
          return runBursts(clients, server, plan.burst)
        })
      }
      if (selected('overhead')) {
        // Keep the whole run under 5 minutes on a busy 2-core machine: the later scenarios
        // need about RESERVE_MS there, and the rounds of this one share what is left.
        const measured = clients.filter((client) => !client.burstsOnly)
        const left = started + plan.deadlineMs - RESERVE_MS - performance.now()
        const budgetMs = Math.max(
          2_000,
          Math.min(plan.overhead.budgetMs, left / measured.length - 1_500),
        )
        results.overhead = await timed('steady-state overhead', () =>
          runOverhead(measured, server, { ...plan.overhead, budgetMs }),
        )
      }
    } finally {
      await server.close()
    }
  }
  if (selected('get-token')) {
    results.getToken = await timed('getToken ns/op', () => runGetToken({ timeMs: plan.getTokenMs }))
  }
  if (selected('client-auth')) {
    results.clientAuth = await timed('token request per client auth method', () =>
      runClientAuth({ timeMs: plan.getTokenMs }),
    )
  }
  if (selected('cpu')) {
    results.cpu = await timed('CPU per request', () => runCpu(plan.cpu))
  }
  if (selected('dpop')) {
    results.dpop = await timed('DPoP against Bearer', () =>
      runDPoP({ timeMs: plan.getTokenMs, ...plan.dpop }),
    )
  }
  if (selected('bundle')) {
    results.bundles = await timed('bundle size', () => runBundles())
  }
  if (selected('memory')) {
    results.heap = await timed('heap over requests', () =>
      runHeap({ requests: plan.heapRequests, bareRequests: plan.heapRequests / 5 }),
    )
    results.keys = await timed('bytes per key', async () => [
      await runKeys({ keys: plan.keys, cacheSize: plan.keys * 2 }),
      await runKeys({ keys: plan.keys, cacheSize: 100 }),
    ])
  }

  if (selected('sessions')) {
    results.sessions = await timed('user sessions', async () => [
      await runSessions({ sessions: plan.keys, cacheSize: 100 }),
      await runSessions({ sessions: plan.keys, cacheSize: plan.keys }),
    ])
  }

  info.loadAfter = loadavg()[0] ?? 0
  info.seconds = (performance.now() - started) / 1000
  const markdown = render(results, info)
  process.stdout.write(`${markdown}\n`)
  if (!only && !quick) {
    const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url))
    // Section 5 (CPU profiles, bytes per source file) is written by hand from profile.ts and
    // bundle-inputs.ts: carried over from the previous file.
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : ''
    const profiles = previous.indexOf(PROFILES_HEADING)
    writeFileSync(file, profiles === -1 ? markdown : `${markdown}\n\n${previous.slice(profiles)}`)
    // The repo's formatter pads the tables; format here so that `pnpm lint` passes on the file.
    const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome')
    execFileSync(process.execPath, [biome, 'format', '--write', file], { stdio: 'ignore' })
    log('wrote bench/RESULTS.md')
  }
}

await main()
// Keep-alive sockets and agents must not keep the process alive.
process.exit(0)
