import { isTransientStatus, OAuthError, TokenEndpointError } from '../errors'
import { bodySecrets, type Redact, redactor, redactValue, requestSecrets } from '../redact'
import type { Timers } from '../types'
import type { TokenRequest } from './grants'

/** The part of `fetch` token requests use: a string URL and an init. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/**
 * Sends one token request and returns the success body. Throws `OAuthError` for RFC 6749
 * §5.2 bodies (also on 200), `TokenEndpointError` for everything else. No message carries
 * the request, whose body holds the credentials, and the credentials the request carries are
 * redacted from the server's and the platform's text before it enters an error (the manager
 * then redacts the secrets it knows besides). The `timeout` runs on `timers`.
 */
export async function postTokenRequest(
  request: TokenRequest,
  settings: { fetch: FetchLike; timeout: number; timers: Timers },
): Promise<Record<string, unknown>> {
  const answer = await postToEndpoint(request, settings, { readSuccess: true })
  if (answer.failure === 'timeout') {
    throw new TokenEndpointError(
      `The token request timed out after ${settings.timeout} ms`,
      'timeout',
      { transient: true },
    )
  }
  if (answer.failure === 'network') {
    // A platform's message may quote what it was sent (a header value it refused).
    const redact = redactor(requestSecrets(request))
    const detail = redact(networkDetail(answer.cause, request.url))
    throw new TokenEndpointError(
      `The token request to ${originOf(request.url)} failed on the network${detail ? `: ${detail}` : ''}`,
      'network_error',
      { cause: redactValue(networkCause(answer.cause), redact), transient: true },
    )
  }
  const { response, text } = answer

  if (isRedirect(response)) {
    // Neither the endpoint's path nor the Location is named: either may carry a tenant or a secret.
    const answer = response.status ? `HTTP ${response.status}, a redirect` : 'a redirect'
    throw new TokenEndpointError(
      `The token endpoint at ${originOf(request.url)} answered ${answer}; token requests never follow redirects, so the credentials go nowhere else. Set the token URL to the address that answers the token request itself`,
      'http_error',
      response.status ? { status: response.status } : {},
    )
  }

  const body = parseBody(text, response.headers.get('content-type'))
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  if (body && typeof body.error === 'string') {
    const redact = redactor([...requestSecrets(request), ...bodySecrets(body)])
    throw new OAuthError(serverText(body, redact), response.status, retryAfter)
  }
  if (!response.ok) {
    const status = response.status
    throw new TokenEndpointError(`The token endpoint answered HTTP ${status}`, 'http_error', {
      status,
      transient: isTransientStatus(status),
      retryAfter,
    })
  }
  if (!body) {
    throw new TokenEndpointError(
      `The token endpoint answered ${response.status} with a body that is neither JSON nor form-encoded`,
      'invalid_response',
      { status: response.status },
    )
  }
  return body
}

/** What one POST to an authorization server's endpoint came to. */
export type EndpointAnswer =
  | { failure: undefined; response: Response; text: string }
  | { failure: 'timeout'; cause?: undefined }
  | { failure: 'network'; cause: unknown }

/**
 * POSTs `request` (a token or revocation request) without following redirects, bounded by
 * `timeout` on `timers`. The body of an error answer is read into `text`, that of a success only
 * with `readSuccess`; a redirect's or an unread success's body is cancelled, freeing the
 * connection.
 */
export async function postToEndpoint(
  request: TokenRequest,
  { fetch: fetchFn, timeout, timers }: { fetch: FetchLike; timeout: number; timers: Timers },
  { readSuccess }: { readSuccess: boolean },
): Promise<EndpointAnswer> {
  const controller = new AbortController()
  const timer = timers.setTimeout(() => controller.abort(), timeout)
  try {
    const response = await fetchFn(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      // Never followed: the next hop would get the credentials. Not 'error', which workerd
      // rejects before sending; a redirect is refused by the caller on every platform alike.
      redirect: 'manual',
    })
    const read = !isRedirect(response) && (readSuccess || !response.ok)
    if (!read) response.body?.cancel().catch(() => {})
    return { failure: undefined, response, text: read ? await response.text() : '' }
  } catch (cause) {
    return controller.signal.aborted ? { failure: 'timeout' } : { failure: 'network', cause }
  } finally {
    timers.clearTimeout(timer)
  }
}

/** The members of an error body that go into an `OAuthError`, with known secrets redacted. */
function serverText(
  body: Record<string, unknown>,
  redact: Redact,
): { error: string; error_description?: string; error_uri?: string } {
  const text = (value: unknown) => (typeof value === 'string' ? redact(value) : undefined)
  const description = text(body.error_description)
  const uri = text(body.error_uri)
  return {
    error: redact(body.error as string),
    ...(description !== undefined && { error_description: description }),
    ...(uri !== undefined && { error_uri: uri }),
  }
}

/** A 3xx answer, or the opaque response browsers give for a manual redirect (status 0). */
export function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)
}

/** The origin only: a path or query may carry tenant ids or credentials. */
export function originOf(url: string, fallback = 'the token endpoint'): string {
  try {
    return new URL(url).origin
  } catch {
    return fallback
  }
}

/** Platform wrappers whose own message says nothing beyond "it failed". */
const GENERIC = /^(fetch failed|failed to fetch|network ?error.*|load failed|typeerror)$/i

/**
 * What went wrong on the network, read from the cause chain the way each platform builds it:
 * undici wraps the socket error in `cause` (sometimes an `AggregateError` of one per address),
 * Bun and Deno put `code`/`errno` on the error itself, browsers say only "Failed to fetch".
 * Any copy of the URL in a message is cut down to its origin.
 */
export function networkDetail(error: unknown, url: string): string {
  const parts: string[] = []
  const seen = new Set<unknown>()
  let generic = ''
  const visit = (value: unknown, depth: number): void => {
    if (depth > 5 || value === null || typeof value !== 'object' || seen.has(value)) return
    seen.add(value)
    const { message, code, errno, errors, cause } = value as Record<string, unknown>
    const text = typeof message === 'string' ? message.trim() : ''
    const tag = typeof code === 'string' ? code : typeof errno === 'string' ? errno : ''
    if (text && !GENERIC.test(text)) {
      parts.push(tag && !text.includes(tag) ? `${text} (${tag})` : text)
    } else if (tag) {
      parts.push(tag)
    } else if (text && !generic) {
      generic = text
    }
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1)
    visit(cause, depth + 1)
  }
  visit(error, 0)
  // A bare code ("ECONNREFUSED" on an AggregateError) adds nothing when a message names it.
  const kept = [...new Set(parts)].filter(
    (part) => /\s/.test(part) || !parts.some((other) => other !== part && other.includes(part)),
  )
  const detail = kept.join('; ') || generic
  return url ? detail.split(url).join(originOf(url)) : detail
}

/** Keeps the kind and message of a network failure, not objects that may hold the request. */
export function networkCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause
  const inner = (cause as { cause?: unknown }).cause
  const kept = new Error(
    cause.message,
    inner instanceof Error ? { cause: new Error(inner.message) } : undefined,
  )
  kept.name = cause.name
  return kept
}

export function parseBody(
  text: string,
  contentType: string | null,
): Record<string, unknown> | undefined {
  const type = contentType?.toLowerCase() ?? ''
  if (type.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text))
  }
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
