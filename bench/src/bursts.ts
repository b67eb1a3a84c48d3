/**
 * Scenario 1: token requests per burst. 1,000 concurrent requests on a cold client, then,
 * after the server revoked every token, 1,000 more. The server counts token requests and how
 * often each request id was sent; the client counts requests that did not end in a 200.
 */
import type { BenchClient, ClientSpec } from './clients'
import type { BenchServer } from './server-control'

export interface BurstResult {
  client: string
  ours: boolean
  phase: 'cold' | 'after revoke'
  /** `POST /token` requests during the burst (ideal: 1). */
  tokenRequests: number
  /** API requests the server saw (ideal: 1,000 cold, 2,000 after a revoke). */
  apiSends: number
  /** Request ids sent more than twice. */
  loops: number
  maxSends: number
  /** Requests that did not end in a 200 (errors, 401s, timeouts). */
  failures: number
  /** The commonest failure, e.g. `401` or an error message. */
  failureKind: string
  ms: number
}

export interface BurstOptions {
  size: number
  /** Each burst is cut off after this long; unfinished requests count as failures. */
  deadlineMs: number
}

async function burst(
  client: BenchClient,
  server: BenchServer,
  { size, deadlineMs }: BurstOptions,
): Promise<Omit<BurstResult, 'client' | 'ours' | 'phase'>> {
  await server.reset()
  const outcomes: (string | undefined)[] = new Array(size)
  const started = performance.now()
  const all = Promise.all(
    Array.from({ length: size }, (_, id) =>
      client.get(`/api/data?id=${id}`).then(
        (status) => {
          outcomes[id] = String(status)
        },
        (error: unknown) => {
          outcomes[id] = describe(error)
        },
      ),
    ),
  )
  let timer: NodeJS.Timeout | undefined
  await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))])
  clearTimeout(timer)
  const ms = performance.now() - started
  const kinds = new Map<string, number>()
  let failures = 0
  for (let id = 0; id < size; id++) {
    const outcome = outcomes[id] ?? `unfinished after ${deadlineMs / 1000} s`
    if (outcome === '200') continue
    failures++
    kinds.set(outcome, (kinds.get(outcome) ?? 0) + 1)
  }
  const stats = await server.stats()
  const failureKind = [...kinds].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
  return {
    tokenRequests: stats.tokenRequests,
    apiSends: stats.tracked,
    loops: stats.loops,
    maxSends: stats.maxSends,
    failures,
    failureKind,
    ms,
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const { status, response, code, name, message } = error as Record<string, unknown>
    const statusOf =
      typeof status === 'number' ? status : (response as { status?: unknown })?.status
    if (typeof statusOf === 'number') return String(statusOf)
    const text = [name, code, message].filter((part) => typeof part === 'string').join(': ')
    return text.slice(0, 80) || 'error'
  }
  return String(error).slice(0, 80)
}

/** Runs the cold and the after-revoke burst for each client, one client at a time. */
export async function runBursts(
  specs: readonly ClientSpec[],
  server: BenchServer,
  options: BurstOptions,
): Promise<BurstResult[]> {
  const results: BurstResult[] = []
  for (const spec of specs) {
    await server.revoke()
    const client = spec.create(server.env)
    try {
      const cold = await burst(client, server, options)
      results.push({ client: spec.name, ours: spec.ours, phase: 'cold', ...cold })
      await server.revoke()
      const revoked = await burst(client, server, options)
      results.push({ client: spec.name, ours: spec.ours, phase: 'after revoke', ...revoked })
    } finally {
      await client.close?.()
    }
  }
  return results
}
