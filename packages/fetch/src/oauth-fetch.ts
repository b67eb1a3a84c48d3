import { type AuthConfig, ConfigError } from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type FetchFunction,
  fetchWithCredentials,
} from '@oauth-interceptors/core/adapter'

/** fetch's `RequestInit`, plus the per-request switch of {@link oauthFetch}. */
export interface OAuthRequestInit extends RequestInit {
  /**
   * Send this request as plain fetch would: no token, no static headers, no retry on 401.
   * @default false
   */
  skipAuth?: boolean | undefined
}

/** What {@link oauthFetch} returns: fetch's signature, where `init` may carry `skipAuth`. */
export type OAuthFetch = (
  input: string | URL | Request,
  init?: OAuthRequestInit,
) => Promise<Response>

/** Options of the wrapper itself; token and header options go in the first argument. */
export interface OAuthFetchOptions {
  /**
   * The fetch to wrap, e.g. a fetch with a proxy dispatcher or another wrapper.
   * @default globalThis.fetch, looked up on every call (so mocks and polyfills installed later apply)
   */
  fetch?: FetchFunction | undefined
  /**
   * The API's URL. Only sets the default `origins` (its origin): fetch has no base URL, so
   * relative request URLs are not resolved against it.
   * @default none: pass `baseUrl` or `origins`
   */
  baseUrl?: string | URL | undefined
}

/**
 * Wraps fetch so requests to the allowed origins carry an OAuth access token. The token comes
 * from core on every request; a rejected one (any 401 by default) is refreshed once and the
 * request sent once more. Redirects follow the redirect rule: credentials go only to allowed
 * origins, and never again in a chain once it has passed an origin that is not allowed. The
 * request's `signal` (e.g. `AbortSignal.timeout(ms)`) also bounds its wait for a token.
 * @example
 * const authedFetch = oauthFetch({
 *   grant: clientCredentials({ tokenUrl, clientId, clientSecret }),
 *   origins: ['https://api.example.com'],
 * })
 * const response = await authedFetch('https://api.example.com/orders')
 * await authedFetch('https://api.example.com/health', { skipAuth: true })
 */
export function oauthFetch(config: AuthConfig, options: OAuthFetchOptions = {}): OAuthFetch {
  const policy = createRequestPolicy(config, { baseUrl: options.baseUrl, client: 'fetch' })
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigError(
      'fetch',
      'expected a function',
      'Pass fetch: a function with the signature of fetch.',
    )
  }
  return (input, init) => {
    const fetch = options.fetch ?? globalThis.fetch
    if (init?.skipAuth === undefined) return fetchWithCredentials(policy, fetch, input, init)
    const { skipAuth, ...requestInit } = init
    return fetchWithCredentials(policy, fetch, input, requestInit, { skipAuth })
  }
}
