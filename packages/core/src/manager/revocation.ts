import {
  isOAuthInterceptorsError,
  isTransientOAuthError,
  isTransientStatus,
  RevocationError,
} from '../errors'
import type { TokenRequest, TokenTypeHint } from '../grants/grants'
import {
  type FetchLike,
  isRedirect,
  networkCause,
  networkDetail,
  originOf,
  parseBody,
  parseRetryAfter,
  postToEndpoint,
} from '../grants/token-endpoint'
import { type Redact, redactor, redactValue, requestSecrets } from '../redact'
import type { Timers } from '../types'

const KIND: Record<TokenTypeHint, string> = {
  access_token: 'access token',
  refresh_token: 'refresh token',
}

/**
 * Sends one revocation request (RFC 7009 §2.1). Resolves on any 2xx: the server answers 200
 * for a token it does not know, too (§2.2). Throws a {@link RevocationError} otherwise, whose
 * text has the request's credentials (the token among them) and `known` redacted.
 */
export async function postRevocationRequest(
  request: TokenRequest,
  hint: TokenTypeHint,
  known: Iterable<string | undefined>,
  settings: { fetch: FetchLike; timeout: number; timers: Timers },
): Promise<void> {
  const origin = originOf(request.url, 'the revocation endpoint')
  const prefix = `Revoking the ${KIND[hint]} at ${origin} failed`
  let redact: Redact | undefined
  const redacted = (text: string) => {
    redact ??= redactor([...requestSecrets(request), ...known])
    return redact(text)
  }
  const answer = await postToEndpoint(request, settings, { readSuccess: false })
  if (answer.failure === 'timeout') {
    throw new RevocationError(`${prefix}: no answer within ${settings.timeout} ms`, 'timeout', {
      tokenTypeHint: hint,
      transient: true,
    })
  }
  if (answer.failure === 'network') {
    const detail = redacted(networkDetail(answer.cause, request.url))
    throw new RevocationError(
      `${prefix} on the network${detail ? `: ${detail}` : ''}`,
      'network_error',
      {
        tokenTypeHint: hint,
        transient: true,
        cause: redactValue(networkCause(answer.cause), redacted),
      },
    )
  }
  const { response, text } = answer
  if (response.ok) return
  const status = response.status
  if (isRedirect(response)) {
    throw new RevocationError(
      `${prefix}: the revocation endpoint answered ${status ? `HTTP ${status}, ` : ''}a redirect, which is never followed. Set revocationUrl to the address that answers the revocation request itself`,
      'http_error',
      { tokenTypeHint: hint, ...(status ? { status } : {}) },
    )
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  const body = parseBody(text, response.headers.get('content-type'))
  if (body && typeof body.error === 'string') {
    const error = redacted(body.error)
    const description =
      typeof body.error_description === 'string' ? redacted(body.error_description) : undefined
    throw new RevocationError(
      `${prefix}: the revocation endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`,
      error,
      {
        tokenTypeHint: hint,
        status,
        errorDescription: description,
        transient: isTransientOAuthError(error, status),
        retryAfter,
      },
    )
  }
  throw new RevocationError(
    `${prefix}: the revocation endpoint answered HTTP ${status}${status === 503 ? ' (it could not revoke the token now)' : ''}`,
    'http_error',
    { tokenTypeHint: hint, status, transient: isTransientStatus(status), retryAfter },
  )
}

/** A grant's `revoke()` that threw, as a revocation failure of `hint`. */
export function asRevocationError(error: unknown, hint: TokenTypeHint): RevocationError {
  if (error instanceof RevocationError) return error
  const library = isOAuthInterceptorsError(error) ? error : undefined
  return new RevocationError(
    `Revoking the ${KIND[hint]} failed: building the revocation request failed in the grant`,
    library?.code ?? 'custom_grant_error',
    { tokenTypeHint: hint, cause: error },
  )
}
