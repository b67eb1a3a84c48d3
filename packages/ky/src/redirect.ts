import {
  isReplayableBody,
  type RequestPolicy,
  redirectHop,
  type Token,
} from '@oauth-interceptors/core'

/** The next hop of a redirect this adapter follows itself, with the headers it may carry. */
export interface RedirectedRequest {
  request: Request
  /** The token the hop carries; none when it leaves the allowed origins. */
  token: Token | undefined
  /** Whether the hop carries policy headers, so its own redirects are followed here too. */
  manual: boolean
}

/**
 * The request that follows `response` when it is a redirect (core's `redirectHop`): the
 * policy's headers are removed, and set again (with the current token) only if the target is an
 * allowed origin. Undefined when there is nothing to follow or fetch would not follow it either:
 * ky then gets the redirect response as it is.
 */
export async function followRedirect(
  policy: RequestPolicy,
  request: Request,
  response: Response,
  body: unknown,
  hops: number,
): Promise<RedirectedRequest | undefined> {
  const hop = redirectHop({
    url: response.url || request.url,
    method: request.method,
    headers: request.headers,
    replayableBody: isReplayable(body, request),
    hops,
    status: response.status,
    location: response.headers.get('location'),
    policy,
    onFailure: 'stop',
  })
  if (!hop) return
  const auth = hop.authorized ? await policy.authorize(request.signal) : undefined
  if (auth) withHeaders(hop.headers, auth.headers)
  const init = {
    method: hop.method,
    headers: hop.headers,
    body: hop.dropBody ? null : request.body,
    redirect: auth ? 'manual' : 'follow',
    signal: request.signal,
    credentials: request.credentials,
    duplex: 'half',
  } as RequestInit
  return { request: new Request(hop.url, init), token: auth?.token, manual: auth !== undefined }
}

/** A request body that can be sent again: not a one-shot source, and not yet consumed. */
export function isReplayable(body: unknown, request: Request): boolean {
  return isReplayableBody(body) && !request.bodyUsed
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
