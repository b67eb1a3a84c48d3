import {
  isReplayableBody,
  type RedirectHop,
  type RequestPolicy,
  redirectHop,
} from '@oauth-interceptors/core'

/** A function with fetch's signature, such as `globalThis.fetch` or a wrapper of it. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * `fetch`, but redirects are followed here, as the fetch standard does (core's `redirectHop`),
 * with `setHeaders` called before every hop so headers can depend on its URL: fetch's own
 * follower strips only `Authorization` on a cross-origin redirect, so an API key or custom token
 * header would leak. Like fetch: at most 20 redirects; 303, and 301/302 after a POST, go on as a
 * GET without body; 307/308 resend the body, and fail with a `TypeError` if it was a stream. A
 * caller's `redirect: 'manual'` or `'error'` is kept (one hop).
 * @param policy when given, its headers are removed before every hop after the first, so
 * `setHeaders` only adds them back where they belong. @default none
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
  policy?: RequestPolicy,
): Promise<Response> {
  const request = requestOf(input)
  let url = requestUrl(input)
  if (url === undefined) return fetch(input, init)
  const follow = (init.redirect ?? request?.redirect ?? 'follow') === 'follow'
  let method = init.method ?? request?.method ?? 'GET'
  let body = init.body !== undefined ? init.body : (request?.body ?? null)
  let headers = new Headers(init.headers ?? request?.headers)
  for (let hops = 0; ; hops++) {
    setHeaders(url, headers)
    // The first hop sends the caller's own input, so a Request keeps all it carries (and later
    // hops its signal, credentials, cache and keepalive settings, as fetch does).
    const response: Response = await (hops === 0
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
    const [{ status }, location] = [response, response.headers.get('location')]
    const replayableBody = isReplayableBody(body)
    let next: RedirectHop | undefined
    try {
      next = follow
        ? redirectHop({ url, method, headers, replayableBody, hops, status, location, policy })
        : undefined
    } catch (error) {
      await discard(response)
      throw error
    }
    if (!next) {
      if (hops > 0) Object.defineProperty(response, 'redirected', { value: true })
      return response
    }
    await discard(response)
    ;({ url, method, headers } = next)
    if (next.dropBody) body = null
  }
}

/** Frees a redirect's own body, which is never read. */
function discard(response: Response): Promise<void> | undefined {
  return response.body?.cancel().catch(() => undefined)
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
