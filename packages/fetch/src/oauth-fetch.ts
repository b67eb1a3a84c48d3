import { type AuthConfig, ConfigError, type TokenOptions } from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type FetchFunction,
  fetchWithCredentials,
  requestOf,
} from '@oauth-interceptors/core/adapter'

/** fetch's `RequestInit`, plus the per-request switch of {@link oauthFetch}. */
export interface OAuthRequestInit extends RequestInit {
  /**
   * Send this request as plain fetch would: no token, no static headers, no retry on 401.
   * @default false
   */
  skipAuth?: boolean | undefined
  /**
   * This request's token: its own scope, audience or resource, or with a token exchange grant
   * the token to exchange. Each set is cached on its own.
   * @default the grant's
   * @example await authedFetch(url, { tokenOptions: { subjectToken: userToken } })
   */
  tokenOptions?: TokenOptions | undefined
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
  /**
   * Read the body of a `Request` input into memory before sending it, so that a POST can be
   * sent again after a 401 (or on a 307/308). A `Request`'s body is a stream, whatever it was
   * made from, so without this such a request is sent once and its 401 surfaces. Turn it on for
   * clients that call fetch with Requests built from in-memory bodies: openapi-fetch, the fetch
   * client `@hey-api/openapi-ts` generates. Leave it off for streaming uploads.
   * @default false
   * @example createClient<paths>({ baseUrl, fetch: oauthFetch(config, { baseUrl, bufferRequestBodies: true }) })
   */
  bufferRequestBodies?: boolean | undefined
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
  const buffer = options.bufferRequestBodies === true
  return (input, init) => {
    const fetch = options.fetch ?? globalThis.fetch
    const replayable = buffer && requestOf(input) && init?.body === undefined ? true : undefined
    if (init?.skipAuth === undefined && init?.tokenOptions === undefined && !replayable) {
      return fetchWithCredentials(policy, fetch, input, init)
    }
    const { skipAuth, tokenOptions, ...requestInit } = init ?? {}
    const call = { skipAuth, tokenOptions, replayable }
    return fetchWithCredentials(policy, fetch, input, requestInit, call)
  }
}
