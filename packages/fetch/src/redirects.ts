import { isReplayableBody } from './replayable-body'

/** A function with fetch's signature, such as `globalThis.fetch` or a wrapper of it. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** Headers that describe the body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type']
/** What fetch implementations drop on a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

/**
 * `fetch`, but redirects are followed here, as the fetch standard does, with `setHeaders` called
 * before every hop so headers can depend on its URL: fetch's own follower strips only
 * `Authorization` on a cross-origin redirect, so an API key or custom token header would leak.
 * Like fetch: at most 20 redirects; 303, and 301/302 after a POST, go on as a GET without body;
 * 307/308 resend the body, and fail with a `TypeError` if it was a stream. A caller's
 * `redirect: 'manual'` or `'error'` is kept (one hop).
 * @see https://fetch.spec.whatwg.org/#http-redirect-fetch
 * @example
 * await fetchFollowingRedirects(fetch, url, {}, (hop, headers) => {
 *   if (hop.origin === apiOrigin) headers.set('x-api-key', key)
 *   else headers.delete('x-api-key')
 * })
 */
export async function fetchFollowingRedirects(
  fetch: FetchFunction,
  input: string | URL | Request,
  init: RequestInit,
  setHeaders: (url: URL, headers: Headers) => void,
): Promise<Response> {
  const request = requestOf(input)
  let url = requestUrl(input)
  if (url === undefined) return fetch(input, init)
  const follow = (init.redirect ?? request?.redirect ?? 'follow') === 'follow'
  let method = init.method ?? request?.method ?? 'GET'
  let body = init.body !== undefined ? init.body : (request?.body ?? null)
  const headers = new Headers(init.headers ?? request?.headers)
  for (let hop = 0; ; hop++) {
    setHeaders(url, headers)
    // The first hop sends the caller's own input, so a Request keeps all it carries (and later
    // hops its signal, credentials, cache and keepalive settings, as fetch does).
    const response: Response = await (hop === 0
      ? fetch(input, follow ? { ...init, headers, redirect: 'manual' } : { ...init, headers })
      : fetch(url.href, {
          ...(request && { signal: request.signal, credentials: request.credentials }),
          ...(request && { cache: request.cache, keepalive: request.keepalive }),
          ...init,
          method,
          body,
          headers,
          redirect: 'manual',
        }))
    const location = follow && REDIRECTS.has(response.status) && response.headers.get('location')
    if (!location) {
      if (hop > 0) Object.defineProperty(response, 'redirected', { value: true })
      return response
    }
    await response.body?.cancel().catch(() => undefined)
    const next: URL = new URL(location, url)
    if (hop === 20) throw new TypeError('Too many redirects (more than 20)')
    if (!/^https?:$/.test(next.protocol)) throw new TypeError(`Redirect to ${next.protocol} URL`)
    const verb = method.toUpperCase()
    if (
      (response.status === 303 && verb !== 'GET' && verb !== 'HEAD') ||
      ((response.status === 301 || response.status === 302) && verb === 'POST')
    ) {
      method = 'GET'
      body = null
      for (const name of BODY_HEADERS) headers.delete(name)
    } else if (!isReplayableBody(body)) {
      throw new TypeError(`Cannot resend a streamed body to a ${response.status} redirect`)
    }
    if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
    url = next
  }
}

/** The input as a Request, duck-typed so Requests of other fetch implementations count too. */
export function requestOf(input: string | URL | Request): Request | undefined {
  return typeof input === 'string' || 'href' in input ? undefined : input
}

/** The absolute URL fetch would request; a relative one resolves against the page, as in browsers. */
export function requestUrl(input: string | URL | Request): URL | undefined {
  if (typeof input !== 'string') return new URL('href' in input ? input.href : input.url)
  try {
    return new URL(input, URL.canParse(input) ? undefined : globalThis.location?.href)
  } catch {
    return undefined
  }
}
