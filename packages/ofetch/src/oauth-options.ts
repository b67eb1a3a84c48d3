import type { AuthConfig, TokenOptions } from '@oauth-interceptors/core'
import {
  completeExchange,
  createRequestPolicy,
  type Exchange,
  type ExchangeOptions,
  isReplayableBody,
  needsCompletion,
  type Outgoing,
  requestUrl,
} from '@oauth-interceptors/core/adapter'
import {
  createFetchError,
  type FetchContext,
  type FetchHooks,
  type FetchOptions,
  type FetchRequest,
  type FetchResponse,
  type ResponseType as FetchResponseType,
  ofetch,
} from 'ofetch'
import { withBase } from 'ufo'

declare module 'ofetch' {
  // biome-ignore lint/suspicious/noExplicitAny: must repeat ofetch's own type parameters to merge
  interface FetchOptions<R extends FetchResponseType = FetchResponseType, T = any> {
    /** `true`: send this request without the token and never refresh for it. @default false */
    skipAuth?: boolean | undefined
    /**
     * This request's token: its own scope, audience or resource, or with a token exchange grant
     * the token to exchange. Each set is cached on its own.
     * @default the grant's
     * @example await api('/orders', { tokenOptions: { subjectToken: userToken } })
     */
    tokenOptions?: TokenOptions | undefined
  }
}

type HookList<K extends keyof FetchHooks> = Extract<NonNullable<FetchHooks[K]>, readonly unknown[]>

/**
 * ofetch options with the adapter's hooks, as arrays so more hooks can be spread in.
 * @example
 * const auth = oauthOptions(config, { baseURL })
 * await ofetch.create(auth)('/orders', { onRequest: [...auth.onRequest, logRequest] })
 */
export interface OAuthOfetchOptions extends FetchOptions {
  /** Your `onRequest` hooks, then the one that adds the token to requests for allowed origins. */
  onRequest: HookList<'onRequest'>
  /** The hook that refreshes and retries once after a rejection, then your `onResponse` hooks. */
  onResponse: HookList<'onResponse'>
}

/** One `ofetch()` call; ofetch copies its options into each of its retries, so this rides along. */
interface Call {
  exchange: Exchange | undefined
  /** The caller's own `redirect` and `signal` (the latter before ofetch adds its timeout's). */
  redirect: RequestRedirect | undefined
  signal: AbortSignal | undefined
}

const CALL = Symbol('oauth-interceptors call')

/**
 * ofetch options that add the token to requests for allowed origins and, when a response
 * means the token was rejected, refresh it once and send the request once more. ofetch's
 * `timeout` and `signal` bound the wait for a token too; redirects follow the redirect rule.
 *
 * ofetch's `create()` does not show its `baseURL` to these hooks: pass it in `options` (or
 * set `origins` in `config`), else this throws core's `ConfigError` explaining `origins`.
 * `options` are your own ofetch options; your hooks in them are kept and run with ours.
 * ofetch 1.x lets per-request hooks replace an instance's hooks: spread ours back in then.
 * @param config A `TokenManager`, its options, or `{ manager }`, plus the request policy.
 * @param options Your own ofetch options (`baseURL`, hooks, …). @default {}
 * @example
 * const api = ofetch.create(oauthOptions(
 *   { grant: clientCredentials({ tokenUrl, clientId, clientSecret }) },
 *   { baseURL: 'https://api.example.com', onRequest: logRequest },
 * ))
 * await api('/orders')
 * await api('/health', { skipAuth: true })
 */
export function oauthOptions(config: AuthConfig, options: FetchOptions = {}): OAuthOfetchOptions {
  const baseUrl = resolve(options.baseURL ?? '', undefined)?.href ?? options.baseURL
  const policy = createRequestPolicy(config, { baseUrl, client: 'ofetch' })

  const authorize = async (context: FetchContext) => {
    const { options } = context
    const carrier = options as { [CALL]?: Call }
    // ofetch's own retries reuse the first attempt's spent timeout signal: give back the caller's.
    if (carrier[CALL]) Object.assign(options, { signal: carrier[CALL].signal })
    carrier[CALL] ??= {
      exchange: start(context),
      redirect: options.redirect,
      signal: options.signal ?? undefined,
    }
    const { exchange, redirect } = carrier[CALL]
    const credentials = await exchange?.credentials()
    if (!credentials) return
    // A hook before ours may have swapped in a plain object; ofetch converts it only later.
    if (typeof options.headers?.set !== 'function') options.headers = new Headers(options.headers)
    for (const name in credentials) options.headers.set(name, credentials[name] as string)
    if (policy.followsRedirects && (redirect ?? 'follow') === 'follow') options.redirect = 'manual'
  }

  /** The exchange of a request the policy applies to, bounded as ofetch bounds it. */
  const start = (context: FetchContext): Exchange | undefined => {
    const { request, options } = context
    const url = target(request, options.baseURL)
    const { skipAuth, signal, timeout, tokenOptions, method } = options
    const bounds: ExchangeOptions = { skipAuth, tokenOptions, method }
    // Most requests have neither, so most make no error factories.
    if (signal || timeout) {
      const fail = (error: unknown) => createFetchError({ ...context, error: error as Error })
      Object.assign(bounds, { signal, abortError: fail, timeout })
      bounds.timeoutError = () => fail(timeoutError())
    }
    return policy.exchange(url, bounds)
  }

  const complete = async (context: FetchContext & { response: FetchResponse<unknown> }) => {
    const call = (context.options as { [CALL]?: Call })[CALL]
    const followsRedirects = context.options.redirect === 'manual' && call?.redirect !== 'manual'
    if (!call?.exchange || !needsCompletion(call.exchange, context.response, followsRedirects))
      return
    const { onRequest, onRequestError, onResponse, onResponseError, baseURL, ...rest } =
      context.options
    const url = resolve(context.request, undefined)
    if (!url) return
    const { method = 'GET', body, headers } = rest
    // A Request input's body is a stream, used up by the first send.
    const source = (context.request as { body?: unknown }).body ?? body
    const start = {
      url,
      method,
      headers: new Headers(headers),
      body,
      replayable: isReplayableBody(source),
    }
    context.response = await completeExchange(call.exchange, start, context.response, {
      followsRedirects,
      landedAt: (response) => (response.redirected ? response.url : undefined),
      onFailure: 'stop',
      send: (next: Outgoing) =>
        ofetch.raw(next.url.href, {
          ...rest,
          ...{ method: next.method, body: next.body as BodyInit, headers: next.headers },
          ...{ signal: call.signal ?? null, retry: false, ignoreResponseError: true },
        }),
    })
  }

  return {
    // Present from the start, so setting them per request changes no object's shape.
    ...({ redirect: undefined, [CALL]: undefined } as object),
    ...options,
    onRequest: [...list(options.onRequest), authorize],
    onResponse: [complete, ...list(options.onResponse)],
  }
}

/** The error ofetch puts under its FetchError when its `timeout` passes. */
function timeoutError(): Error {
  const error = new Error('[TimeoutError]: The operation was aborted due to timeout')
  error.name = 'TimeoutError'
  return Object.assign(error, { code: 23 })
}

/** The URL ofetch will fetch, joined the way it does (ufo's `withBase`); the policy resolves it. */
function target(request: FetchRequest | URL, baseURL: string | undefined): string | URL {
  if (typeof request === 'string') return withBase(request, baseURL ?? '')
  return 'href' in request ? request : request.url
}

/** The absolute URL ofetch will fetch, joined the way it does (ufo's `withBase`). */
function resolve(request: FetchRequest | URL, baseURL: string | undefined): URL | undefined {
  return requestUrl(target(request, baseURL))
}

function list<T>(hooks: T | readonly T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? [...hooks] : [hooks as T]
}
