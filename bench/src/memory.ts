/**
 * Scenario 4: memory. (a) Heap after 10⁵ requests through each of our adapters (in-process
 * transport, so only client-side allocations count), sampled after a forced GC; flat means
 * nothing is kept per request. (b) Bytes per cached token key: 10⁴ distinct scopes
 * (`getToken({ scope })`) on one manager. Needs `node --expose-gc`.
 */
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'
import { type InProcessSpec, inProcessSpecs, sendMany } from './in-process'

export interface HeapResult {
  client: string
  /** Heap used (bytes) after warm-up, and after each fifth of the requests. */
  samples: number[]
  requests: number
  /** Last sample minus the first, per request (bytes). */
  bytesPerRequest: number
  /** The same for the bare client (over fewer requests), as the noise floor. */
  bareBytesPerRequest: number
}

export interface KeyResult {
  keys: number
  cacheSize: number
  /** Keys the manager holds at the end: the LRU keeps at most `cacheSize`. */
  retainedKeys: number
  heapDelta: number
  bytesPerKey: number
  /** Cost of one `invalidate()` of a token that is not the default key's, at this many keys. */
  invalidateUs: number
  /** Cost of one cached `getToken({ scope })` at this many keys. */
  scopedGetTokenNs: number
  /** Cost of one cached `getToken()` (the default key) at this many keys. */
  defaultGetTokenNs: number
}

/** Full GCs with turns of the event loop between, so finalizers (e.g. undici's) can run. */
export async function gc(): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc
  if (!collect) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 3; i++) {
    collect()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function heapSamples(
  send: () => Promise<unknown>,
  requests: number,
  concurrency: number,
): Promise<number[]> {
  await sendMany(send, 1_000, concurrency)
  await gc()
  const samples = [process.memoryUsage().heapUsed]
  const step = requests / 5
  for (let done = 0; done < requests; done += step) {
    await sendMany(send, step, concurrency)
    await gc()
    samples.push(process.memoryUsage().heapUsed)
  }
  return samples
}

export async function runHeap(
  options: { requests: number; bareRequests: number },
  specs: readonly InProcessSpec[] = inProcessSpecs.filter((spec) => spec.ours),
): Promise<HeapResult[]> {
  const results: HeapResult[] = []
  for (const spec of specs) {
    const bare = await heapSamples(spec.bare().send, options.bareRequests, 50)
    const samples = await heapSamples(spec.create().send, options.requests, 50)
    const perRequest = (list: number[], requests: number) =>
      ((list.at(-1) as number) - (list[0] as number)) / requests
    results.push({
      client: spec.name,
      samples,
      requests: options.requests,
      bytesPerRequest: perRequest(samples, options.requests),
      bareBytesPerRequest: perRequest(bare, options.bareRequests),
    })
  }
  return results
}

export async function runKeys(options: { keys: number; cacheSize: number }): Promise<KeyResult> {
  const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'id', clientSecret: 'secret' })
  const manager = createTokenManager({
    grant,
    fetch: tokenEndpointFetch,
    cacheSize: options.cacheSize,
  })
  await manager.getToken()
  const scopes = Array.from({ length: options.keys }, (_, index) => `scope:${index}`)
  await gc()
  const before = process.memoryUsage().heapUsed
  for (let start = 0; start < scopes.length; start += 500) {
    await Promise.all(scopes.slice(start, start + 500).map((scope) => manager.getToken({ scope })))
  }
  await gc()
  const heapDelta = process.memoryUsage().heapUsed - before
  const retainedKeys = Math.min(options.keys + 1, options.cacheSize)

  // A cached per-scope call, and invalidate() of a token that is not the default key's
  // (found by a scan over every cached entry).
  const last = scopes.at(-1) as string
  const { accessToken } = await manager.getToken({ scope: last })
  // With a small cacheSize the default key was evicted: cache it again so both calls below hit.
  await manager.getToken()
  const calls = 5_000
  for (let i = 0; i < 500; i++) {
    void manager.getToken({ scope: last })
    void manager.getToken()
  }
  let started = performance.now()
  for (let i = 0; i < calls; i++) void manager.getToken({ scope: last })
  const scopedGetTokenNs = ((performance.now() - started) * 1e6) / calls
  started = performance.now()
  for (let i = 0; i < calls; i++) void manager.getToken()
  const defaultGetTokenNs = ((performance.now() - started) * 1e6) / calls
  const invalidations = 200
  started = performance.now()
  for (let i = 0; i < invalidations; i++) manager.invalidate(`${accessToken}-not-current`)
  const invalidateUs = ((performance.now() - started) * 1e3) / invalidations
  return {
    keys: options.keys,
    cacheSize: options.cacheSize,
    retainedKeys,
    heapDelta,
    bytesPerKey: heapDelta / retainedKeys,
    invalidateUs,
    scopedGetTokenNs,
    defaultGetTokenNs,
  }
}
