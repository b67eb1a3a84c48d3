/**
 * Scenario 4c: user sessions of a BFF (`userTokens()` from `@oauth-interceptors/core/sessions`):
 * what one session costs in memory, and what `getToken({ session })` costs when the session's
 * token is in process memory (the `cacheSize` most used) and when it comes from the store
 * behind it (the in-memory session store here; Redis adds its round trip). Heap per session
 * counts the token strings the manager holds. Needs
 * `node --expose-gc`.
 */
import { createTokenManager } from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import { fakeJwt, TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'
import { gc } from './memory'

export interface SessionResult {
  sessions: number
  cacheSize: number
  /** Heap growth per session, with every session set and held. */
  bytesPerSession: number
  /** ns per awaited `getToken({ session })` of a session in process memory. */
  cachedNs: number
  /** µs per awaited `getToken({ session })` of a session only the store holds. */
  fromStoreUs: number
}

const login = () => ({
  access_token: fakeJwt(),
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: fakeJwt().slice(0, 64),
})

export async function runSessions(options: {
  sessions: number
  cacheSize: number
}): Promise<SessionResult> {
  const tokens = createTokenManager({
    grant: userTokens({ tokenUrl: TOKEN_URL, clientId: 'bff', clientSecret: 'bff-secret' }),
    fetch: tokenEndpointFetch,
    cacheSize: options.cacheSize,
    maxSessions: options.sessions,
  })
  // Session ids as a session cookie holds them.
  const ids = Array.from({ length: options.sessions }, (_, i) => `s${i}-${fakeJwt().slice(-43)}`)
  await gc()
  const before = process.memoryUsage().heapUsed
  // The token strings count: the manager holds them (the login responses themselves are dropped).
  for (const id of ids) await tokens.setSession(id, login())
  await gc()
  const bytesPerSession = (process.memoryUsage().heapUsed - before) / options.sessions

  // The last session set is in process memory; the first only in the store.
  const hot = ids.at(-1) as string
  const calls = 20_000
  for (let i = 0; i < 2_000; i++) await tokens.getToken({ session: hot })
  let started = performance.now()
  for (let i = 0; i < calls; i++) await tokens.getToken({ session: hot })
  const cachedNs = ((performance.now() - started) * 1e6) / calls

  // Each of these comes from the store, and pushes another session out of process memory.
  const cold = ids.slice(0, Math.min(2_000, ids.length - options.cacheSize))
  started = performance.now()
  for (const id of cold) await tokens.getToken({ session: id })
  const fromStoreUs = ((performance.now() - started) * 1e3) / cold.length
  if (tokens.stats().requested !== 0) throw new Error('a session was refreshed: the bench is off')
  return {
    sessions: options.sessions,
    cacheSize: options.cacheSize,
    bytesPerSession,
    cachedNs,
    fromStoreUs,
  }
}
