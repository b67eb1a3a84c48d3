import {
  type AuthConfig,
  createRequestPolicy,
  isReplayableBody,
  redirectHop,
  type Token,
} from '@oauth-interceptors/core'
import {
  type FetchHooks,
  type FetchOptions,
  type FetchRequest,
  type ResponseType as FetchResponseType,
  ofetch,
} from 'ofetch'
import { withBase } from 'ufo'

declare module 'ofetch' {
  // biome-ignore lint/suspicious/noExplicitAny: must repeat ofetch's own type parameters to merge
  interface FetchOptions<R extends FetchResponseType = FetchResponseType, T = any> {
    /** `true`: send this request without the token and never refresh for it. @default false */
    skipAuth?: boolean | undefined
  }
}

type HookList<K extends keyof FetchHooks> = Extract<NonNullable<FetchHooks[K]>, readonly unknown[]>
type ResponseContext = Parameters<HookList<'onResponse'>[number]>[0]

/**
 * ofetch options with the adapter's hooks, as arrays so more hooks can be spread in.
 * @example
 * const auth = oauthOptions(cfg, { baseURL })
 * await ofetch.create(auth)('/orders', { onRequest: [...auth.onRequest, logRequest] })
 */
export interface OAuthFetchOptions extends FetchOptions {
  onRequest: HookList<'onRequest'>
  onResponse: HookList<'onResponse'>
}

/** One `ofetch()` call; ofetch copies its options into each retry, so this rides along. */
interface Call {
  /** The caller's own `redirect` and `signal` (the latter before ofetch adds its timeout). */
  redirect: RequestRedirect | undefined
  signal: AbortSignal | undefined
  retried: boolean
  /** Caller's retry settings, put back on the auth retry so it keeps its own retry rules. */
  restore: object | undefined
}

const CALL = Symbol('oauth-interceptors call')
/** The token each call's current attempt carries, to report a 401 against. Kept out of the
 * options, which FetchError exposes, so a logged error shows no refresh token. */
const tokens = new WeakMap<Call, Token>()

/**
 * ofetch options that add the token to requests for allowed origins and, when a response
 * means the token was rejected, refresh it once and retry the request once.
 *
 * ofetch's `create()` does not show its `baseURL` to these hooks: pass it in `options` (or
 * set `origins` in `cfg`), else this throws core's `ConfigError` explaining `origins`.
 * `options` are your own ofetch options; your hooks in them are kept and run with ours.
 * ofetch 1.x lets per-request hooks replace an instance's hooks: spread ours back in then.
 * @param cfg A `TokenManager`, its options, or `{ manager }`, plus the request policy.
 * @param options Your own ofetch options (`baseURL`, hooks, …). @default {}
 * @example
 * const api = ofetch.create(oauthOptions(
 *   { grant: clientCredentials({ tokenUrl, clientId, clientSecret }) },
 *   { baseURL: 'https://api.example.com', onRequest: logRequest },
 * ))
 * await api('/orders')
 * await api('/health', { skipAuth: true })
 */
export function oauthOptions(cfg: AuthConfig, options: FetchOptions = {}): OAuthFetchOptions {
  const baseUrl = resolve(options.baseURL ?? '', undefined)?.href ?? options.baseURL
  const policy = createRequestPolicy(cfg, { baseUrl, client: 'ofetch' })
  const followsRedirects = policy.followsRedirects

  const authorize: HookList<'onRequest'>[number] = async ({ request, options }) => {
    const carrier = options as { [CALL]?: Call }
    carrier[CALL] ??= {
      redirect: options.redirect,
      signal: options.signal ?? undefined,
      retried: false,
      restore: undefined,
    }
    const call = carrier[CALL]
    Object.assign(options, call.restore, { redirect: call.redirect })
    call.restore = undefined
    tokens.delete(call)
    const url = resolve(request, options.baseURL)
    if (options.skipAuth || !url || !policy.appliesTo(url)) return
    const { token, headers } = await policy.authorize(call.signal)
    // A hook before ours may have swapped in a plain object; ofetch converts it only later.
    if (typeof options.headers?.set !== 'function') options.headers = new Headers(options.headers)
    for (const [name, value] of Object.entries(headers)) options.headers.set(name, value)
    tokens.set(call, token)
    // fetch strips only Authorization on a cross-origin redirect: follow ourselves to strip ours.
    if (followsRedirects && (call.redirect ?? 'follow') === 'follow') options.redirect = 'manual'
  }

  /** Follows the redirects of a request switched to `manual`; false once our headers are dropped. */
  const follow = async (context: ResponseContext, call: Call, token: Token, from: URL) => {
    const { onRequest, onRequestError, onResponse, onResponseError, baseURL, ...rest } =
      context.options
    let { method = 'GET', body } = rest
    let [url, headers, authorized] = [from, new Headers(rest.headers), true]
    for (let hops = 0; ; hops++) {
      const { status, headers: received } = context.response
      const hop = redirectHop({
        ...{ url, method, headers, replayableBody: isReplayableBody(body), hops, status },
        ...{ location: received.get('location'), policy, onFailure: 'stop' },
      })
      if (!hop) return authorized
      // Once a hop left the allowed origins, the token stays off for the rest of the chain.
      authorized &&= hop.authorized
      if (authorized)
        for (const [name, value] of Object.entries(policy.headersFor(token)))
          hop.headers.set(name, value)
      ;({ url, method, headers } = hop)
      if (hop.dropBody) body = undefined
      context.response = await ofetch.raw(url.href, {
        ...rest,
        ...{ method, body, headers, signal: call.signal ?? null, redirect: 'manual' },
        ...{ retry: false, ignoreResponseError: true },
      })
    }
  }

  const refresh: HookList<'onResponse'>[number] = async (context) => {
    const { options } = context
    const call = (options as { [CALL]?: Call })[CALL]
    const from = resolve(context.request, undefined)
    const token = call && tokens.get(call)
    if (!call || !token || !from) return
    const authorized =
      options.redirect === 'manual' && call.redirect !== 'manual'
        ? await follow(context, call, token, from)
        : // fetch followed any redirect itself, and kept only Authorization, within the origin.
          !context.response.redirected || policy.appliesTo(context.response.url)
    const { response } = context
    if (call.retried || !authorized || response.status < 400 || response.status >= 600) return
    if (!policy.shouldRefresh(response)) return
    // A Request input's body is a stream, used up by the first send.
    if (!isReplayableBody((context.request as { body?: unknown }).body ?? options.body)) {
      // No retry with a consumed body, but the next request should not carry this token again.
      policy.reject(token)
      return
    }
    call.retried = true
    await policy.reauthorize(token, call.signal)
    const { retry, retryStatusCodes, retryDelay, ignoreResponseError } = options
    call.restore = { retry, retryStatusCodes, retryDelay, ignoreResponseError, signal: call.signal }
    // ofetch cannot replace a response from a hook, but it retries after this on these settings;
    // the retry re-runs `authorize`, which reads the fresh token from core.
    Object.assign(options, { retry: 1, retryStatusCodes: [response.status], retryDelay: 0 })
    options.ignoreResponseError = false
  }

  return {
    ...options,
    onRequest: [...list(options.onRequest), authorize],
    onResponse: [refresh, ...list(options.onResponse)],
  }
}

/** The absolute URL ofetch will fetch, resolved the way it does (ufo's `withBase`). */
function resolve(request: FetchRequest | URL, baseURL: string | undefined): URL | undefined {
  const url =
    typeof request === 'string'
      ? withBase(request, baseURL ?? '')
      : 'url' in request
        ? request.url
        : request.href
  try {
    return new URL(url)
  } catch {
    // Relative: only a page has a base for it. (Deno throws on `location` without --location.)
    try {
      return new URL(url, globalThis.location.href)
    } catch {
      return undefined
    }
  }
}

function list<T>(hooks: T | readonly T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? [...hooks] : [hooks as T]
}
