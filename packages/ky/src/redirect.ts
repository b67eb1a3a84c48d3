import type { RequestPolicy, Token } from '@oauth-interceptors/core'

// As fetch: https://fetch.spec.whatwg.org/#http-redirect-fetch
const MAX_REDIRECTS = 20
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** The next hop of a redirect this adapter follows itself, with the headers it may carry. */
export interface RedirectHop {
  request: Request
  /** The token the hop carries; none when it leaves the allowed origins. */
  token: Token | undefined
  /** Whether the hop carries policy headers, so its own redirects are followed here too. */
  manual: boolean
}

/**
 * The request that follows `response` when it is a redirect: the policy's headers are removed,
 * and set again (with the current token) only if the target is an allowed origin. Undefined when
 * there is nothing to follow or fetch would not follow it either.
 */
export async function followRedirect(
  policy: RequestPolicy,
  request: Request,
  response: Response,
  body: unknown,
  hops: number,
): Promise<RedirectHop | undefined> {
  const location = response.headers.get('location')
  if (!REDIRECT_STATUSES.has(response.status) || location === null || hops >= MAX_REDIRECTS) return
  const url = new URL(location, response.url || request.url)
  const [{ status }, { method }] = [response, request]
  const toGet =
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    (status <= 302 && method === 'POST')
  // A 307/308 re-sends the body, which a stream cannot do twice.
  if (!toGet && request.body && !isReplayable(body, request)) return
  const headers = new Headers(request.headers)
  for (const name of policy.headerNames) headers.delete(name)
  if (url.origin !== new URL(request.url).origin) headers.delete('authorization')
  // The body is dropped, and with it the headers that describe it (content-type, …).
  if (toGet)
    for (const name of [...headers.keys()]) if (name.startsWith('content-')) headers.delete(name)
  const auth = policy.appliesTo(url) ? await policy.authorize(request.signal) : undefined
  if (auth) withHeaders(headers, auth.headers)
  const init = {
    method: toGet ? 'GET' : method,
    headers,
    body: toGet ? null : request.body,
    redirect: auth ? 'manual' : 'follow',
    signal: request.signal,
    credentials: request.credentials,
    duplex: 'half',
  } as RequestInit
  return { request: new Request(url, init), token: auth?.token, manual: auth !== undefined }
}

/** A request body that can be sent again: anything but a stream, and not yet consumed. */
export function isReplayable(body: unknown, request: Request): boolean {
  return !(body instanceof ReadableStream) && !request.bodyUsed
}

/** Whether fetch followed a redirect to another origin, where it did not send the token. */
export function leftOrigin(request: Request, response: Response): boolean {
  return response.redirected && new URL(response.url).origin !== new URL(request.url).origin
}

/** Sets `headers` on `target` and returns it. */
export function withHeaders(target: Headers, headers: Record<string, string>): Headers {
  for (const [name, value] of Object.entries(headers)) target.set(name, value)
  return target
}
