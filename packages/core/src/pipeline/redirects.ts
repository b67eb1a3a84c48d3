import type { Exchange } from './exchange'
import type { RequestPolicy, ResponseLike } from './policy'

/** The statuses fetch follows. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
/** fetch's limit: the 21st redirect in a row is a network error. */
const MAX_REDIRECTS = 20
/** What Node's fetch (undici) drops when a redirect changes origin; browsers drop at least `authorization`. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

/** A redirect response, with the request it answered. */
export interface Redirect {
  /** The URL that answered with the redirect; a relative `Location` resolves against it. */
  url: string | URL
  /** The method of that request. */
  method: string
  /** The headers of that request, token headers included; left unchanged. */
  headers: Headers
  /** Whether its body can be sent again (see {@link isReplayableBody}); a 307/308 resends it. */
  replayableBody: boolean
  /** How many redirects were followed before this one. */
  hops: number
  /** The response status. */
  status: number
  /** The response's `Location` header. */
  location: string | null | undefined
  /**
   * The policy whose headers (token header and static headers) to drop on every hop; the
   * request's {@link Exchange} decides which hops get them back.
   * @default none: only the headers fetch itself drops are dropped
   */
  policy?: RequestPolicy | undefined
  /**
   * What to do where fetch would fail the redirect (a 21st redirect, a target that is not
   * http(s), a body that cannot be sent again): `'throw'` fetch's `TypeError`, or `'stop'`:
   * return undefined, so the caller keeps the redirect response as its result.
   * @default 'throw'
   */
  onFailure?: 'throw' | 'stop' | undefined
}

/** The request to send next, as the fetch standard builds it from a redirect. */
export interface RedirectHop {
  /** The `Location`, resolved against the redirecting URL. */
  url: URL
  /** `GET` where the redirect turns the request into one, else the method unchanged. */
  method: string
  /** Whether to send the hop without a body (the request became a `GET`). */
  dropBody: boolean
  /**
   * A copy of the request's headers without the policy's headers, without `authorization`,
   * `cookie` and `proxy-authorization` when the origin changes, and without `content-*`
   * headers when the body is dropped.
   */
  headers: Headers
}

/**
 * The next hop of a redirect that an adapter follows itself (with `redirect: 'manual'`), because
 * fetch's own follower strips only `Authorization` when the origin changes, so a custom token
 * header or a static header such as `x-api-key` would reach any origin. Follows fetch's rules:
 * at most 20 redirects; 303 (unless `GET`/`HEAD`), and 301/302 after a `POST`, go on as a `GET`
 * without body; other redirects resend the body, which fails if it cannot be sent again.
 * @returns the hop, or undefined when `status` is not a redirect or there is no `Location`
 * @throws TypeError where fetch would fail (unless `onFailure: 'stop'`), or for a `Location`
 * that is not a URL
 * @see https://fetch.spec.whatwg.org/#http-redirect-fetch
 * @example
 * const hop = redirectHop({
 *   url, method, headers, replayableBody: isReplayableBody(body), hops,
 *   status: response.status, location: response.headers.get('location'), policy,
 * })
 * if (hop) await exchange.sign(hop.headers, hop.url)
 */
export function redirectHop(redirect: Redirect): RedirectHop | undefined {
  const { status, location, policy } = redirect
  if (!REDIRECT_STATUSES.has(status) || !location) return undefined
  const fail = (message: string): undefined => {
    if (redirect.onFailure === 'stop') return undefined
    throw new TypeError(message)
  }
  const from = new URL(redirect.url)
  const url = new URL(location, from)
  if (redirect.hops >= MAX_REDIRECTS) return fail('Too many redirects (more than 20)')
  if (!/^https?:$/.test(url.protocol)) return fail(`Redirect to ${url.protocol} URL`)
  const method = redirect.method.toUpperCase()
  const dropBody =
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  if (!dropBody && !redirect.replayableBody) {
    return fail(`Cannot resend a streamed body to a ${status} redirect`)
  }
  const headers = new Headers(redirect.headers)
  for (const name of policy?.headerNames ?? []) headers.delete(name)
  if (url.origin !== from.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
  // The headers that describe the body go with it.
  if (dropBody)
    for (const name of [...headers.keys()]) if (name.startsWith('content-')) headers.delete(name)
  return {
    url,
    method: dropBody ? 'GET' : redirect.method,
    dropBody,
    headers,
  }
}

/** A request as the redirect loop sends it; `body` is whatever the client sends (fetch's `BodyInit`, axios' `data`). */
export interface Outgoing<B = unknown> {
  /** Where this hop goes. */
  url: URL
  /** The HTTP method, upper case; a 303 (or a 301/302 after POST) turns it into GET. */
  method: string
  /** The headers of this hop, with the credentials added or stripped for its origin. */
  headers: Headers
  /** The body to send, `undefined` once a redirect has dropped it. */
  body: B | undefined
}

/** How {@link followRedirects} talks to a client. */
export interface RedirectTransport<R extends ResponseLike, B> {
  /**
   * Sends the request without following its redirects (e.g. fetch with `redirect: 'manual'`):
   * a redirect hop (`redirected`), or the request itself once more.
   */
  send(request: Outgoing<B>, redirected: boolean): Promise<R>
  /** Frees the body of a redirect response that is never read. @default nothing to free */
  discard?: ((response: R) => unknown) | undefined
  /** See {@link Redirect.onFailure}. @default 'throw' */
  onFailure?: 'throw' | 'stop' | undefined
}

/**
 * The one redirect loop of every client whose redirects the pipeline follows itself: from the
 * first `response` of `request`, follows the redirect chain as fetch does ({@link redirectHop}),
 * giving each hop credentials only as the redirect rule allows ({@link Exchange.credentials}).
 * @returns the first response that is not a redirect to follow
 */
export async function followRedirects<R extends ResponseLike, B>(
  exchange: Exchange,
  request: Outgoing<B> & { replayable: boolean },
  response: R,
  transport: RedirectTransport<R, B>,
): Promise<R> {
  let { url, method, headers, body } = request
  for (let hops = 0; ; hops++) {
    let hop: RedirectHop | undefined
    try {
      hop = redirectHop({
        ...{ url, method, headers, replayableBody: request.replayable, hops },
        ...{ status: response.status, location: location(response), policy: exchange.policy },
        onFailure: transport.onFailure,
      })
    } catch (error) {
      await transport.discard?.(response)
      throw error
    }
    if (!hop) return response
    await transport.discard?.(response)
    await exchange.sign(hop.headers, hop.url, hop.method)
    ;({ url, method, headers } = hop)
    if (hop.dropBody) body = undefined
    response = await transport.send({ url, method, headers, body }, true)
  }
}

/**
 * Whether `response` is a redirect the pipeline would follow, or may need a retry: when neither,
 * {@link completeExchange} has nothing to do and an adapter can skip it.
 */
export function needsCompletion(
  exchange: Exchange,
  response: ResponseLike,
  followsRedirects: boolean,
): boolean {
  return (followsRedirects && isRedirect(response)) || exchange.mayRetry(response)
}

function isRedirect(response: ResponseLike): boolean {
  return REDIRECT_STATUSES.has(response.status)
}

function location(response: ResponseLike): string | undefined {
  const value = response.headers.get('location')
  return typeof value === 'string' ? value : undefined
}

/**
 * Whether a request body can be sent a second time (a retry after a 401, or a 307/308
 * redirect). One-shot sources cannot: a `ReadableStream`, a Node stream, or any async iterable
 * are used up by the first send. Everything a client sends from memory can: strings, buffers,
 * `Blob`, `FormData`, `URLSearchParams`, and the plain objects a client serializes to JSON.
 * @example
 * isReplayableBody(JSON.stringify({ a: 1 })) // true
 * isReplayableBody(file.stream()) // false
 */
export function isReplayableBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return true
  return !('getReader' in body || 'pipe' in body || Symbol.asyncIterator in body)
}

/** How {@link completeExchange} talks to a client. */
export interface ExchangeTransport<R extends ResponseLike, B> extends RedirectTransport<R, B> {
  /** Whether redirects are followed here ({@link followRedirects}) rather than by the platform. */
  followsRedirects: boolean
  /**
   * The URL the platform's own redirect following ended at, if it followed any: a response
   * from another origin judges no token of ours (the platform dropped `Authorization`).
   * @default none
   */
  landedAt?: ((response: R) => string | undefined) | undefined
}

/**
 * Everything after the first response of a request the client sent with the exchange's
 * credentials: its redirects (under the redirect rule), then at most one more send with a new
 * token when the response rejects the token it carried, with that send's redirects too.
 * @returns the response to hand to the caller
 */
export async function completeExchange<R extends ResponseLike, B>(
  exchange: Exchange,
  request: Outgoing<B> & { replayable: boolean },
  response: R,
  transport: ExchangeTransport<R, B>,
): Promise<R> {
  for (;;) {
    if (transport.followsRedirects && isRedirect(response)) {
      response = await followRedirects(exchange, request, response, transport)
    }
    const landedAt = transport.followsRedirects ? undefined : transport.landedAt?.(response)
    if (!exchange.retry(response, request.replayable, landedAt)) return response
    await transport.discard?.(response)
    const headers = new Headers(request.headers)
    await exchange.sign(headers, undefined, request.method)
    response = await transport.send({ ...request, headers }, false)
  }
}
