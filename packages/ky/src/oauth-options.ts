import {
  type AuthConfig,
  isOAuthInterceptorsError,
  type TokenOptions,
} from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type FetchFunction,
  fetchWithCredentials,
  isReplayableBody,
} from '@oauth-interceptors/core/adapter'
// For the module augmentation below; the adapter needs nothing of ky at run time.
import type { Options } from 'ky'

declare module 'ky' {
  interface Options {
    /**
     * Send this request without the token and static headers, even to an allowed origin.
     * @default false
     * @example api.get('health', { skipAuth: true })
     */
    skipAuth?: boolean | undefined
    /**
     * This request's token: its own scope, audience or resource, or with a token exchange grant
     * the token to exchange. Each set is cached on its own.
     * @default the grant's
     * @example api.get('orders', { tokenOptions: { subjectToken: userToken } })
     */
    tokenOptions?: TokenOptions | undefined
  }
}

/** The arguments of a ky hook: ky 1 passes `(request, options)`, ky 2 one object `{ request, options }`. */
export type HookArguments =
  | [Request, object, ...unknown[]]
  | [
      {
        /** The request ky is about to send. */
        request: Request
        /** ky's normalised options of this request. */
        options: object
      },
    ]

/**
 * Where ky resolves relative URLs, which ky's hooks and `fetch` cannot read: its origin is the
 * default `origins`. Pass the value you give ky; with none, `origins` is required.
 * @example oauthOptions(config, { prefixUrl: API }) // ky 1; ky 2: { prefix: API } or { baseUrl: API }
 */
export interface OAuthKyOptions {
  /** ky 1's `prefixUrl`. @default none */
  prefixUrl?: string | URL | undefined
  /** ky 2's `prefix` (resolved against `baseUrl` when relative). @default none */
  prefix?: string | URL | undefined
  /** ky 2's `baseUrl`. @default none */
  baseUrl?: string | URL | undefined
  /** Your own `fetch` for ky, if you had one: the pipeline sends through it. @default globalThis.fetch */
  fetch?: FetchFunction | undefined
}

/** ky options to spread into `ky.create()` or pass to `.extend()`. */
export interface OAuthKyInstanceOptions {
  /** Sends each request through the pipeline: token, redirects and the one retry after a 401. */
  fetch: FetchFunction
  /** ky hooks the adapter needs; ky merges them with yours. */
  hooks: {
    /** Notes whether each request's body can be sent again. */
    beforeRequest: ((...args: HookArguments) => undefined)[]
    /** Ends ky's retries of a failed token request: core has its own retry policy. */
    beforeRetry: ((state: { request: Request; options: object; error: unknown }) => undefined)[]
  }
}

/**
 * OAuth 2.0 access tokens for ky 1 and 2: the requests to the allowed origins carry the token,
 * and one that is rejected (a 401 by default) is sent once more with a new token — inside ky's
 * own `fetch`, so it never uses ky's `retry` budget (it works with `retry: 0`) and ky's
 * `timeout` and `signal` bound the wait for a token. Token-endpoint failures are never retried
 * by ky: core's retry policy applies alone.
 * @param config a `TokenManager`, its options (`{ grant, ... }`) or `{ manager }`, plus the
 * request policy: `origins`, `header`, `scheme`, `headers`, `shouldRefresh`
 * @param options the instance's base URL, for the default `origins`, and your own `fetch`
 * @throws ConfigError when there is neither `origins` nor a base URL, or an option is invalid
 * @example
 * const API = 'https://api.example.com'
 * const api = ky.create({
 *   prefixUrl: API,
 *   ...oauthOptions({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }) }, { prefixUrl: API }),
 * })
 */
export function oauthOptions(
  config: AuthConfig,
  options: OAuthKyOptions = {},
): OAuthKyInstanceOptions {
  const policy = createRequestPolicy(config, {
    baseUrl: baseUrlOf(options),
    client:
      'oauthOptions() (ky cannot show it the prefixUrl: pass oauthOptions(config, { prefixUrl }))',
  })
  // A Request's body is a stream whatever it was made from; ky's options still hold the source.
  // Noted only where that differs from a Request's own answer (a body or none): most requests
  // add no entry (an entry per request is work for the garbage collector).
  const replayable = new WeakMap<Request, boolean>()
  const note = (...args: HookArguments): undefined => {
    const [first, second] = args
    const { request, options } = 'options' in first ? first : { request: first, options: second }
    const source = isReplayableBody((options as { body?: unknown }).body)
    if (source !== (request.body === null)) replayable.set(request, source)
  }
  const stopRetry = (state: { request: Request; options: object; error: unknown }): undefined => {
    if (isOAuthInterceptorsError(state.error)) throw state.error
    note(state)
  }
  const fetch: FetchFunction = (input, init = {}) => {
    const { skipAuth, tokenOptions, ...rest } = init as RequestInit &
      Pick<Options, 'skipAuth' | 'tokenOptions'>
    const request = input as Request
    const call = {
      ...{ skipAuth, tokenOptions },
      replayable: replayable.get(request) ?? request.body === null,
    }
    return fetchWithCredentials(policy, options.fetch ?? globalThis.fetch, input, rest, call)
  }
  return { fetch, hooks: { beforeRequest: [note], beforeRetry: [stopRetry] } }
}

/** The URL ky resolves relative inputs against: `prefix(Url)` on `baseUrl` on the page. */
function baseUrlOf({ prefixUrl, prefix = prefixUrl, baseUrl }: OAuthKyOptions) {
  if (!prefix && !baseUrl) return undefined
  const page = globalThis.location?.href
  try {
    const base = baseUrl === undefined ? page : new URL(baseUrl, page).href
    return prefix ? new URL(prefix, base).href : base
  } catch {
    return String(prefix ?? baseUrl) // core rejects it with a ConfigError naming `origins`
  }
}
