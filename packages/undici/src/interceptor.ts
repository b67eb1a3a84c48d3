import type { AuthConfig, ResponseLike, TokenOptions } from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type Exchange,
  isReplayableBody,
  type RequestPolicy,
} from '@oauth-interceptors/core/adapter'
import type { Dispatcher } from 'undici'

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type HeaderRecord = Record<string, string | string[] | undefined>
type Socket = Parameters<NonNullable<Handler['onRequestUpgrade']>>[3]

/** undici's dispatch options, plus the per-request switch of {@link oauthInterceptor}. */
export interface OAuthDispatchOptions extends Dispatcher.DispatchOptions {
  /**
   * Send this request as the bare dispatcher would: no token, no static headers, no retry on
   * 401. `undici.request(url, { skipAuth: true })` passes it through; fetch has no such option
   * (give that call `dispatcher:` a dispatcher without the interceptor).
   * @default false
   */
  skipAuth?: boolean | undefined
  /**
   * This request's token: its own scope, audience or resource, or with a token exchange grant
   * the token to exchange. `undici.request(url, { tokenOptions })` passes it through.
   * @default the grant's
   */
  tokenOptions?: TokenOptions | undefined
}

/** A chain that gets no credentials: it started uncredentialed, or left the allowed origins. */
const NONE = 'none'

/**
 * An undici interceptor that adds an OAuth 2.0 access token to requests for the allowed origins,
 * for `Agent#compose()` and `setGlobalDispatcher`, so Node's global `fetch` and `undici.request`
 * get it. A rejected token (any 401 by default) is refreshed once and the request sent once
 * more when its body can be sent again (no body, a string or a buffer; not a stream, and fetch
 * hands undici every body as a stream). Aborting the request also stops its wait for a token.
 *
 * Redirects: compose it before undici's `interceptors.redirect()` (so the redirect interceptor
 * sends each hop through it): credentials go only to allowed origins, and never again in a
 * chain once it passed an origin that is not allowed. Without a redirect interceptor the 3xx
 * comes back as it is (fetch follows it itself, each hop a request of its own here).
 * @param config a `TokenManager`, its options (`{ grant, ... }`) or `{ manager }`, plus the
 * request policy: `origins` (required: a dispatcher has no base URL), `header`, `scheme`,
 * `headers`, `shouldRefresh`
 * @example
 * const dispatcher = new Agent().compose(
 *   oauthInterceptor({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }), origins: ['https://api.example.com'] }),
 *   interceptors.redirect({ maxRedirections: 5 }),
 * )
 * setGlobalDispatcher(dispatcher)
 * const response = await fetch('https://api.example.com/orders')
 */
export function oauthInterceptor(config: AuthConfig): Dispatcher.DispatcherComposeInterceptor {
  const policy = createRequestPolicy(config, { client: 'the undici interceptor' })
  // undici's redirect interceptor sends every hop of a chain with the same handler.
  const chains = new WeakMap<Handler, Exchange | typeof NONE>()
  return (dispatch) => (opts: OAuthDispatchOptions, handler) => {
    // Joined, not resolved: a path such as `//a//b` is a path here, not another host. Parsed
    // only for a redirect hop: the policy tells most URLs from their start.
    const origin = typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin
    const url = `${origin}${opts.path}`
    const chain = chains.get(handler)
    const { skipAuth, tokenOptions, method } = opts
    const exchange =
      chain ?? policy.exchange(url, { skipAuth: skipAuth === true, tokenOptions, method })
    const hop = chain && chain !== NONE ? new URL(url) : undefined
    if (!exchange || exchange === NONE || (hop && !exchange.keeps(hop))) {
      chains.set(handler, NONE)
      return dispatch(opts, handler)
    }
    chains.set(handler, exchange)
    new Call(dispatch, opts, handler, exchange, hop).send()
    return true
  }
}

/**
 * One dispatch with credentials: the caller's handler sees one request (its controller is ours
 * from the start, so an abort also stops the wait for a token), while a response that rejects
 * the token is read to its end and the request dispatched once more with a new token.
 */
class Call implements Handler, Controller {
  #downstream: Controller | undefined
  #reason: Error | null = null
  #paused = false
  /** The current response rejected the token: swallow it, then send once more. */
  #again = false

  constructor(
    readonly dispatch: Dispatcher.Dispatch,
    readonly opts: OAuthDispatchOptions,
    readonly handler: Handler,
    readonly exchange: Exchange,
    readonly hop: URL | undefined,
  ) {
    handler.onRequestStart?.(this, {})
  }

  async send(): Promise<void> {
    let credentials: Record<string, string> | undefined
    try {
      credentials = await this.exchange.credentials(this.hop, this.opts.method)
    } catch (error) {
      if (!this.aborted) this.handler.onResponseError?.(this, error as Error)
      return
    }
    // Aborted while waiting: the caller was told at once; the token request goes on for others.
    if (this.aborted) return
    const headers = withCredentials(this.opts.headers, this.exchange.policy, credentials)
    this.dispatch({ ...this.opts, headers }, this)
  }

  // The caller's controller.
  get aborted(): boolean {
    return this.#reason !== null
  }
  get paused(): boolean {
    return this.#paused
  }
  get reason(): Error | null {
    return this.#reason
  }
  // undici 8's fetch reads the response's headers from here, not from onResponseStart's record.
  get rawHeaders(): NonNullable<Controller['rawHeaders']> | null {
    return this.#downstream?.rawHeaders ?? null
  }
  get rawTrailers(): NonNullable<Controller['rawTrailers']> | null {
    return this.#downstream?.rawTrailers ?? null
  }
  abort(reason: Error): void {
    if (this.#reason) return
    this.#reason = reason ?? new DOMException('The request was aborted', 'AbortError')
    if (this.#downstream) this.#downstream.abort(this.#reason)
    else this.handler.onResponseError?.(this, this.#reason)
  }
  pause(): void {
    this.#paused = true
    this.#downstream?.pause()
  }
  resume(): void {
    this.#paused = false
    this.#downstream?.resume()
  }

  // The handler of the dispatcher below.
  onRequestStart(controller: Controller): void {
    this.#downstream = controller
    if (this.#reason) controller.abort(this.#reason)
    else if (this.#paused) controller.pause()
  }
  onRequestUpgrade(_: Controller, status: number, headers: HeaderRecord, socket: Socket): void {
    this.handler.onRequestUpgrade?.(this, status, headers, socket)
  }
  onResponseStart(_: Controller, status: number, headers: HeaderRecord, message?: string): void {
    const response: ResponseLike = { status, headers: { get: (name) => headers[name] } }
    // A token rejected during a rejection backoff, or with a stream body: the caller gets it.
    this.#again = this.exchange.retry(response, isReplayableBody(this.opts.body))
    if (!this.#again) this.handler.onResponseStart?.(this, status, headers, message)
  }
  onResponseData(_: Controller, chunk: Buffer): void {
    if (!this.#again) this.handler.onResponseData?.(this, chunk)
  }
  onResponseEnd(_: Controller, trailers: HeaderRecord): void {
    if (!this.#again) {
      this.handler.onResponseEnd?.(this, trailers)
      return
    }
    this.#downstream = undefined
    void this.send()
  }
  onResponseError(_: Controller, error: Error): void {
    this.handler.onResponseError?.(this, error)
  }
}

/** The request's headers (any of undici's shapes) with the policy's own set for this send. */
function withCredentials(
  headers: Dispatcher.DispatchOptions['headers'],
  policy: RequestPolicy,
  credentials: Record<string, string> | undefined,
): HeaderRecord {
  const result: HeaderRecord = {}
  const add = (name: string, value: string | string[] | undefined) => {
    if (value === undefined || policy.headerNames.includes(name.toLowerCase())) return
    const had = result[name]
    result[name] = had === undefined ? value : [had, value].flat()
  }
  if (Array.isArray(headers) && typeof headers[0] !== 'object') {
    for (let i = 0; i < headers.length; i += 2) add(String(headers[i]), headers[i + 1])
  } else if (headers && Symbol.iterator in headers) {
    for (const [name, value] of headers as Iterable<[string, string | string[]]>) add(name, value)
  } else for (const [name, value] of Object.entries(headers ?? {})) add(name, value)
  return { ...result, ...credentials }
}
