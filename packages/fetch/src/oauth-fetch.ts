import {
  type AuthConfig,
  type Authorization,
  ConfigError,
  createRequestPolicy,
  isReplayableBody,
} from '@oauth-interceptors/core'
import { type FetchFunction, fetchFollowingRedirects, requestOf, requestUrl } from './redirects'

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
 * request sent once more. With a custom `header`, static `headers` or several `origins`,
 * redirects are followed here so that no token or static header reaches an origin outside
 * `origins`; otherwise fetch follows them (dropping `Authorization` on another origin).
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
  // Follow redirects here only when fetch's own following could leak or lose the token (see
  // policy.followsRedirects): in browsers a manual redirect is opaque.
  const manual = policy.followsRedirects
  return async (input, init) => {
    const fetch = options.fetch ?? globalThis.fetch
    const { skipAuth = false, ...requestInit }: OAuthRequestInit = init ?? {}
    const url = requestUrl(input)
    if (skipAuth || url === undefined || !policy.appliesTo(url)) return fetch(input, requestInit)

    const request = requestOf(input)
    const signal =
      (requestInit.signal !== undefined ? requestInit.signal : request?.signal) ?? undefined
    // A Request's body is a stream from outside, whatever it was made from: send it only once.
    const body = requestInit.body !== undefined ? requestInit.body : request?.body
    let signed = false
    // Every hop starts without the policy's headers; they go back only where the policy applies.
    const sign = (auth: Authorization) => (hop: URL, headers: Headers) => {
      signed = policy.appliesTo(hop)
      if (signed) for (const [name, value] of Object.entries(auth.headers)) headers.set(name, value)
    }
    const send = async (auth: Authorization) => {
      if (manual) return fetchFollowingRedirects(fetch, input, requestInit, sign(auth), policy)
      const headers = new Headers(requestInit.headers ?? request?.headers)
      for (const [name, value] of Object.entries(auth.headers)) headers.set(name, value)
      const response = await fetch(input, { ...requestInit, headers })
      // fetch sent the token to the last hop only if that stayed on the (single) allowed origin.
      signed = !response.redirected || policy.appliesTo(response.url)
      return response
    }

    const auth = await policy.authorize(signal)
    const response = await send(auth)
    // Only a token we sent can have been rejected (a redirect may have ended elsewhere).
    if (!signed || !policy.shouldRefresh(response)) return response
    if (!isReplayableBody(body)) {
      // The body is used up: surface the 401, but let the next request start with a new token.
      policy.reject(auth.token)
      return response
    }
    await response.body?.cancel().catch(() => undefined)
    return send(await policy.reauthorize(auth.token, signal))
  }
}
