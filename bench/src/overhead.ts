/**
 * Scenario 2a: steady-state overhead. Throughput of a client holding a valid cached token vs
 * the same HTTP client sending a fixed header, measured in alternating rounds (A B, B A, …) in
 * one process so that machine load hits both alike; the result is the median of the
 * per-round ratios.
 */
import { type BenchClient, bare, type ClientSpec } from './clients'
import type { BenchServer } from './server-control'

export interface OverheadResult {
  client: string
  ours: boolean
  base: string
  /** Median requests/s of the bare client and of the client under test. */
  bareRps: number
  authRps: number
  /** Median CPU µs per request of this process (the server runs in another one). */
  bareCpuUs: number
  authCpuUs: number
  /** Median of per-round CPU ratios (bare / client): less disturbed by other load. */
  cpuRatio: number
  /** Median of per-round throughput ratios (client / bare); goal ≥ 0.97. */
  ratio: number
  /** Interquartile range of the ratios, to show the noise. */
  ratioIqr: [number, number]
  rounds: number
  /** Requests that did not end in a 200 (should be 0). */
  failures: number
  /** Token requests during the measured rounds (ideal: 0). */
  tokenRequests: number
}

export interface OverheadOptions {
  concurrency: number
  /** Requests per round per side. */
  requests: number
  /** Rounds per client (each round measures both sides). */
  rounds: number
  /** Stop adding rounds for a client after this long (at least 3 rounds run). */
  budgetMs: number
}

/** Sends `count` requests through `client`, `concurrency` at a time; returns requests/s. */
async function drive(
  client: BenchClient,
  count: number,
  concurrency: number,
): Promise<{ rps: number; cpuUs: number; failures: number }> {
  let next = 0
  let failures = 0
  const worker = async () => {
    while (next < count) {
      next++
      try {
        if ((await client.get('/api/data')) !== 200) failures++
      } catch {
        failures++
      }
    }
  }
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const used = process.cpuUsage(cpu)
  return {
    rps: (count / (performance.now() - started)) * 1000,
    cpuUs: (used.user + used.system) / count,
    failures,
  }
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return (
    (sorted[low] as number) +
    ((sorted[high] as number) - (sorted[low] as number)) * (position - low)
  )
}

export async function runOverhead(
  specs: readonly ClientSpec[],
  server: BenchServer,
  options: OverheadOptions,
): Promise<OverheadResult[]> {
  const results: OverheadResult[] = []
  for (const spec of specs) {
    await server.revoke()
    const token = await server.token()
    const baseline = bare(spec.base, server.env, token)
    const client = spec.create(server.env)
    try {
      // Warm-up: JIT, keep-alive sockets, and the token cache of the client under test.
      await drive(baseline, options.requests, options.concurrency)
      await drive(client, options.requests, options.concurrency)
      await server.reset()
      const ratios: number[] = []
      const bareRps: number[] = []
      const authRps: number[] = []
      const bareCpu: number[] = []
      const authCpu: number[] = []
      const cpuRatios: number[] = []
      let failures = 0
      const started = performance.now()
      for (let round = 0; round < options.rounds; round++) {
        if (round >= 3 && performance.now() - started > options.budgetMs) break
        const order = round % 2 === 0 ? [baseline, client] : [client, baseline]
        const measured = new Map<BenchClient, { rps: number; cpuUs: number }>()
        for (const side of order) {
          const run = await drive(side, options.requests, options.concurrency)
          measured.set(side, run)
          if (side === client) failures += run.failures
        }
        const a = measured.get(baseline) as { rps: number; cpuUs: number }
        const b = measured.get(client) as { rps: number; cpuUs: number }
        bareRps.push(a.rps)
        authRps.push(b.rps)
        ratios.push(b.rps / a.rps)
        bareCpu.push(a.cpuUs)
        authCpu.push(b.cpuUs)
        cpuRatios.push(a.cpuUs / b.cpuUs)
      }
      const stats = await server.stats()
      results.push({
        client: spec.name,
        ours: spec.ours,
        base: spec.base,
        bareRps: median(bareRps),
        authRps: median(authRps),
        bareCpuUs: median(bareCpu),
        authCpuUs: median(authCpu),
        cpuRatio: median(cpuRatios),
        ratio: median(ratios),
        ratioIqr: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
        rounds: ratios.length,
        failures,
        tokenRequests: stats.tokenRequests,
      })
    } finally {
      await client.close?.()
      await baseline.close?.()
    }
  }
  return results
}
