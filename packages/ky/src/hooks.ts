import { type AuthConfig, createRequestPolicy, type Token } from '@oauth-interceptors/core'
import ky from 'ky'
import { followRedirect, isReplayable, leftOrigin, withHeaders } from './redirect'

declare module 'ky' {
  interface Options {
    /**
     * Send this request without the token and static headers, even to an allowed origin.
     * @default false
     * @example api.get('health', { skipAuth: true })
     */
    skipAuth?: boolean | undefined
  }
}

/** What the hooks read of ky's options; ky 1 and ky 2 both pass one object per call. */
interface CallOptions {
  readonly headers: Headers
  readonly body?: unknown
  readonly skipAuth?: boolean | undefined
  readonly retry?: { readonly limit?: number }
  /** Carried into a re-sent call on ky versions without `ky.retry` (ky < 1.14). */
  readonly oauthInterceptors?: Omit<CallState, 'token'>
}
interface HookCall {
  request: Request
  options: CallOptions
  response: Response
  retryCount: number
}
/** Per-call bookkeeping (never a token cache): what this call sent, and what it already did. */
interface CallState {
  token: Token | undefined
  /** Redirects are followed here (see `needsManualRedirects`). */
  manual: boolean
  retried: boolean
  hops: number
}

/**
 * A `beforeRequest` hook in both of ky's shapes: ky 1 calls `(request, options)`, ky 2
 * `({ request, options })`.
 * @example const { beforeRequest } = oauthHooks(config) // BeforeRequestHook[]
 */
export interface BeforeRequestHook {
  (request: Request, options: object): Promise<Request | undefined>
  (state: { request: Request; options: object }): Promise<Request | undefined>
}
/**
 * An `afterResponse` hook in both of ky's shapes: ky 1 calls `(request, options, response)`,
 * ky 2 `({ request, options, response })`. It may also resolve to ky's own `ky.retry()` marker,
 * which only ky consumes and ky before 1.14 does not know, so the type leaves it out.
 * @example const { afterResponse } = oauthHooks(config) // AfterResponseHook[]
 */
export interface AfterResponseHook {
  (request: Request, options: object, response: Response): Promise<Response | undefined>
  (state: { request: Request; options: object; response: Response }): Promise<Response | undefined>
}
/**
 * The hooks to pass to ky's `hooks` option; spread them to combine them with your own.
 * @example
 * const auth = oauthHooks(config)
 * ky.create({ prefixUrl, hooks: { ...auth, beforeRequest: [addTrace, ...auth.beforeRequest] } })
 */
export interface OAuthHooks {
  beforeRequest: BeforeRequestHook[]
  afterResponse: AfterResponseHook[]
}

/**
 * The ky instance's base URL, which ky hooks cannot read: its origin is the default `origins`.
 * Pass the value you give ky; with none, `origins` is required.
 * @example oauthHooks(config, { prefixUrl: API }) // ky 1; ky 2: { prefix: API } or { baseUrl: API }
 */
export interface OAuthHooksOptions {
  /** ky 1's `prefixUrl`. @default none */
  prefixUrl?: string | URL | undefined
  /** ky 2's `prefix` (resolved against `baseUrl` when relative). @default none */
  prefix?: string | URL | undefined
  /** ky 2's `baseUrl`. @default none */
  baseUrl?: string | URL | undefined
}

type Retry = (options: { request: Request; delay: number; code: string }) => unknown
// ky ≥ 1.14 and ky 2 retry inside the same call; older ky 1 re-sends with `ky(request, options)`.
const kyRetry = (ky as unknown as { retry?: Retry }).retry

/**
 * OAuth 2.0 access tokens for ky: adds the token to requests for the allowed origins, and on a
 * rejected token (a 401 by default) refreshes once and retries the request once.
 * ky hooks cannot see the instance's `prefixUrl`: pass it again as the second argument (the
 * default `origins` is its origin), or set `origins`.
 * @param config a `TokenManager`, its options (`{ grant, ... }`) or `{ manager }`, plus the
 * request policy: `origins`, `header`, `scheme`, `headers`, `shouldRefresh`
 * @param options the instance's base URL, for the default `origins` @default {}
 * @throws ConfigError when there is neither `origins` nor a base URL, or an option is invalid
 * @example
 * const API = 'https://api.example.com'
 * const api = ky.create({
 *   prefixUrl: API,
 *   hooks: oauthHooks({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }) }, { prefixUrl: API }),
 * })
 */
export function oauthHooks(config: AuthConfig, options: OAuthHooksOptions = {}): OAuthHooks {
  const policy = createRequestPolicy(config, {
    baseUrl: baseUrlOf(options),
    client:
      'oauthHooks() (ky hooks cannot read the instance prefixUrl: pass oauthHooks(config, { prefixUrl }))',
  })
  const needsManualRedirects = policy.followsRedirects
  // Keyed by the options' Headers: one object per ky call, kept across ky's own retries.
  const calls = new WeakMap<Headers, CallState>()

  async function beforeRequest(...args: unknown[]): Promise<Request | undefined> {
    const { request, options } = read(args)
    if (options.skipAuth === true || !policy.appliesTo(request.url)) return
    const { token, headers } = await policy.authorize(request.signal)
    withHeaders(request.headers, headers)
    const state = calls.get(options.headers) ??
      options.oauthInterceptors ?? { retried: false, hops: 0, manual: false }
    // fetch drops only `authorization` on a cross-origin redirect; a custom or static header
    // would follow the redirect anywhere, so such requests are redirected by afterResponse.
    const follow = needsManualRedirects && request.redirect === 'follow'
    calls.set(options.headers, { ...state, token, manual: state.manual || follow })
    return follow ? new Request(request, { redirect: 'manual' }) : undefined
  }

  async function afterResponse(...args: unknown[]): Promise<Response | undefined> {
    const call = read(args)
    const { request, options, response } = call
    const state = calls.get(options.headers)
    if (!state) return
    if (state.manual) {
      const next = await followRedirect(policy, request, response, options.body, state.hops)
      if (next) {
        Object.assign(state, { hops: state.hops + 1, token: next.token, manual: next.manual })
        return resend(call, next.request, state, 'REDIRECT')
      }
    }
    const { token } = state
    if (!token || state.retried || leftOrigin(request, response)) return
    if (!policy.shouldRefresh(response)) return
    // Without a retry the token is still dropped, so the next request starts with a fresh one.
    if (!isReplayable(options.body, request) || !canRetry(call)) {
      policy.reject(token)
      return
    }
    const fresh = await policy.reauthorize(token, request.signal)
    Object.assign(state, { retried: true, token: fresh.token })
    const headers = withHeaders(new Headers(request.headers), fresh.headers)
    return resend(call, new Request(request, { headers }), state, 'TOKEN_REFRESHED')
  }

  return { beforeRequest: [beforeRequest], afterResponse: [afterResponse] }
}

/** The URL ky resolves relative inputs against: `prefix(Url)` on `baseUrl` on the page. */
function baseUrlOf({ prefixUrl, prefix = prefixUrl, baseUrl }: OAuthHooksOptions) {
  if (!prefix && !baseUrl) return undefined
  const page = globalThis.location?.href
  try {
    const base = baseUrl === undefined ? page : new URL(baseUrl, page).href
    return prefix ? new URL(prefix, base).href : base
  } catch {
    return String(prefix ?? baseUrl) // core rejects it with a ConfigError naming `origins`
  }
}

/** ky 1 passes `(request, options, response?, state?)`, ky 2 one state object. */
function read(args: unknown[]): HookCall {
  if (args[0] instanceof Request) {
    const [request, options, response, state] = args as [Request, CallOptions, Response, unknown]
    const retryCount = (state as { retryCount?: number } | undefined)?.retryCount ?? 0
    return { request, options, response, retryCount }
  }
  return args[0] as HookCall
}

/** `ky.retry()` counts against `retry.limit`; without one left, ky would throw a ForceRetryError. */
function canRetry({ options, retryCount }: HookCall): boolean {
  return !kyRetry || retryCount < (options.retry?.limit ?? 0)
}

/** Sends `request` in place of the call's: with `ky.retry()` where ky has it, else a nested call. */
function resend(call: HookCall, request: Request, state: CallState, code: string) {
  if (kyRetry) {
    if (!canRetry(call)) return undefined
    return kyRetry({ request, delay: 0, code }) as Response // the marker (see AfterResponseHook)
  }
  // The Request carries URL, method, headers and body; options must not re-apply theirs.
  const { retried, hops, manual } = state
  return ky(request, {
    ...(call.options as object),
    method: undefined,
    headers: undefined,
    json: undefined,
    body: undefined,
    searchParams: undefined,
    oauthInterceptors: { retried, hops, manual },
  } as unknown as Parameters<typeof ky>[1])
}
