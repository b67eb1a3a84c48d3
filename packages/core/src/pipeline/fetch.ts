import type { ExchangeOptions } from './exchange'
import type { RequestPolicy } from './policy'
import { completeExchange, isReplayableBody, needsCompletion, type Outgoing } from './redirects'

/** The init of a send whose redirects the pipeline follows; one object for every request. */
const MANUAL = { redirect: 'manual' } as const

/** A function with fetch's signature, such as `globalThis.fetch` or a wrapper of it. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** Per-request options of {@link fetchWithCredentials}: how the client bounds it, and its body. */
export interface CredentialedRequest extends ExchangeOptions {
  /**
   * Whether the body can be sent again (a retry, a 307/308). A `Request`'s body is a stream
   * whatever it was made from, so a client that builds Requests says what it was made from.
   * @default isReplayableBody(init.body), and false for a `Request` with a body
   */
  replayable?: boolean | undefined
}

/**
 * fetch through the pipeline, for every fetch-shaped client: adds the credentials where the
 * policy allows, follows redirects under the redirect rule where the platform could leak or
 * lose them (`RequestPolicy.followsRedirects`; otherwise fetch follows them), and sends the
 * request once more with a new token when the response rejects the one it carried.
 * @example
 * const response = await fetchWithCredentials(policy, fetch, 'https://api.example.com/orders')
 */
export async function fetchWithCredentials(
  policy: RequestPolicy,
  fetch: FetchFunction,
  input: string | URL | Request,
  init: RequestInit = {},
  options: CredentialedRequest = {},
): Promise<Response> {
  const request = requestOf(input)
  const signal = init.signal !== undefined ? init.signal : request?.signal
  const target = typeof input === 'string' ? input : 'href' in input ? input.href : input.url
  const exchange = policy.exchange(target, signal ? { signal, ...options } : options)
  if (!exchange) return fetch(input, init)

  let body = init.body !== undefined ? init.body : (request?.body ?? null)
  const replayable =
    options.replayable ?? (body === request?.body ? body === null : isReplayableBody(body))
  // A Request's body is a stream, used up by the first send: keep its bytes to send again.
  if (request && init.body === undefined && body !== null && replayable) {
    body = await request.blob()
  }
  const method = init.method ?? request?.method ?? 'GET'
  // fetch drops only `Authorization` on another origin: follow here when that could leak or lose.
  const mode = init.redirect ?? request?.redirect ?? 'follow'
  const manual = policy.followsRedirects && mode === 'follow'
  const redirect = manual ? MANUAL : undefined
  const credentials = (await exchange.credentials(undefined, method)) as Record<string, string>
  const given = init.headers ?? request?.headers
  // With no headers of its own, the request's headers are the credentials: no Headers to copy.
  const headers = given === undefined ? credentials : withCredentials(given, credentials)
  const reuse = body !== null && body !== request?.body ? { body } : undefined
  const response = await fetch(input, { ...init, ...reuse, headers, ...redirect })
  if (!needsCompletion(exchange, response, manual)) return response
  const url = requestUrl(target) as URL // the exchange started from it
  const transport = {
    followsRedirects: manual,
    landedAt: (response: Response) => (response.redirected ? response.url : undefined),
    discard,
    send: async (next: Outgoing<BodyInit | null>, redirected: boolean) => {
      // The request once more is the caller's Request again, with all it carries (`redirect`,
      // `mode`, `integrity`, …); a hop is a new request to its URL, as fetch makes it.
      const target = request && !redirected ? request : next.url.href
      const sent = await fetch(target, {
        ...(request && { signal: request.signal, credentials: request.credentials }),
        ...(request && { cache: request.cache, keepalive: request.keepalive }),
        ...init,
        ...{ method: next.method, headers: next.headers, body: next.body ?? null, ...redirect },
      })
      if (redirected) Object.defineProperty(sent, 'redirected', { value: true })
      return sent
    },
  }
  const start = { url, method, headers: new Headers(headers), body, replayable }
  return completeExchange(exchange, start, response, transport)
}

/** `given` headers with `credentials` set on a copy (any case of their names replaced). */
function withCredentials(given: HeadersInit, credentials: Record<string, string>): Headers {
  const headers = new Headers(given)
  for (const name in credentials) headers.set(name, credentials[name] as string)
  return headers
}

/** Frees the body of a response that is never read. */
function discard(response: Response): Promise<void> | undefined {
  return response.body?.cancel().catch(() => undefined)
}

/** The input as a Request, duck-typed so Requests of other fetch implementations count too. */
export function requestOf(input: string | URL | Request): Request | undefined {
  return typeof input === 'string' || 'href' in input ? undefined : input
}

/**
 * The absolute URL a client with a base URL requests, joined as axios and ofetch join them:
 * `url` as it is when absolute (unless `allowAbsolute` is false), else appended to `base` with
 * one slash between; a relative result resolves against the page, as in browsers.
 * @example resolveUrl('/orders', 'https://api.example.com/v1/') // https://api.example.com/v1/orders
 */
export function resolveUrl(url = '', base?: string, allowAbsolute = true): URL | undefined {
  const joined = joinUrl(url, base, allowAbsolute)
  return joined ? requestUrl(joined) : undefined
}

/**
 * The URL a client with a base URL requests, joined as {@link resolveUrl} joins it but not
 * parsed: `RequestPolicy.exchange()` takes it as it is, and parses only what it must.
 * @returns `''` for neither URL nor base
 * @example joinUrl('/orders', 'https://api.example.com/v1/') // 'https://api.example.com/v1/orders'
 */
export function joinUrl(url = '', base?: string, allowAbsolute = true): string {
  if (!base || url === '') return url || base || ''
  if (allowAbsolute && ABSOLUTE.test(url)) return url
  // Most bases have no trailing slash and most paths one leading slash: no regex needed then.
  const head = base.endsWith('/') ? base.replace(/\/+$/, '') : base
  const tail =
    url.charCodeAt(0) !== 0x2f
      ? url
      : url.charCodeAt(1) !== 0x2f
        ? url.slice(1)
        : url.replace(/^\/+/, '')
  return `${head}/${tail}`
}

/** A URL with a scheme or protocol-relative (`//host`): not joined to a base URL. */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i

/** The absolute URL fetch would request; a relative one resolves against the page, as in browsers. */
export function requestUrl(input: string | URL | Request): URL | undefined {
  try {
    return new URL(typeof input === 'string' ? input : 'href' in input ? input.href : input.url)
  } catch {
    // Relative: only a page has a base for it.
    try {
      return typeof input === 'string' ? new URL(input, globalThis.location?.href) : undefined
    } catch {
      return undefined
    }
  }
}
