import {
  clientCredentials,
  createTokenManager,
  type TokenEvent,
  type TokenManager,
} from '@oauth-interceptors/core'
import type { DPoPKey } from '@oauth-interceptors/core/dpop'
import { userTokens } from '@oauth-interceptors/core/sessions'
import type { RedisTokenStore } from '../../src/index'

/**
 * The token manager every process of the test fleet runs: one client (with client credentials,
 * or a BFF's user sessions), a Redis store, and a fetch that tags its token requests with the
 * process name (so a test can tell who asked).
 */
export function fleetManager(options: {
  tokenUrl: string
  store: RedisTokenStore
  processName: string
  lockTtl?: number | undefined
  onEvent?: ((event: TokenEvent) => void) | undefined
  dpop?: DPoPKey | undefined
  /** @default 'client': client credentials */
  grant?: 'client' | 'sessions' | undefined
}): TokenManager {
  const client = {
    tokenUrl: options.tokenUrl,
    clientId: 'fleet-client',
    clientSecret: 'fleet-secret',
  }
  return createTokenManager({
    grant: options.grant === 'sessions' ? userTokens(client) : clientCredentials(client),
    store: options.store,
    lockTtl: options.lockTtl,
    retry: false,
    onEvent: options.onEvent,
    dpop: options.dpop,
    fetch: (input, init) => {
      const headers = new Headers(init.headers)
      headers.set('x-fleet-process', options.processName)
      return fetch(input, { ...init, headers })
    },
  })
}

/**
 * One API request as an adapter sends it: with the current token; on a 401 the token is
 * invalidated (stale-401 rule in core) and the request retried once. Resolves the status.
 */
export async function callApi(
  tokens: TokenManager,
  url: string,
  requestId: string,
): Promise<number> {
  const send = async () => {
    const token = await tokens.getToken()
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token.accessToken}`, 'x-request-id': requestId },
    })
    await response.arrayBuffer()
    return { status: response.status, token }
  }
  const first = await send()
  if (first.status !== 401) return first.status
  tokens.invalidate(first.token.accessToken)
  return (await send()).status
}

/** Runs `count` calls of `run` at once; counts how they settled. */
export async function burst<T>(
  count: number,
  run: (index: number) => Promise<T>,
): Promise<{ values: T[]; failures: string[] }> {
  const settled = await Promise.allSettled(Array.from({ length: count }, (_, index) => run(index)))
  const values: T[] = []
  const failures: string[] = []
  for (const result of settled) {
    if (result.status === 'fulfilled') values.push(result.value)
    else failures.push(describeFailure(result.reason))
  }
  return { values, failures }
}

function describeFailure(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined
  return cause === undefined ? String(error) : `${String(error)} (${String(cause)})`
}
