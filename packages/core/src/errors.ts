/**
 * Error codes an authorization server may answer (RFC 6749 §5.2 and §4.1.2.1, RFC 6750 §3.1,
 * RFC 7009 §2.2.1, RFC 8628 §3.5, RFC 8693 §2.2.2, RFC 8707 §2, RFC 9449 §7.1). Any other string a server sends
 * is accepted as is.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_target'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'unsupported_token_type'
  // Keeps the known codes in editor completions while accepting any code a server sends.
  | (string & {})

/** Reasons a token request failed without an OAuth error body. */
export type TokenEndpointErrorCode =
  | 'http_error'
  | 'network_error'
  | 'timeout'
  | 'invalid_response'
  | 'unsupported_token_type'
  | 'custom_grant_error'
  | 'token_revoked'
  | 'subject_token_expired'

/** Every `code` an {@link OAuthInterceptorsError} may carry. */
export type ErrorCode =
  | TokenEndpointErrorCode
  | 'invalid_config'
  | 'manager_closed'
  | 'login_required'
  | OAuthErrorCode

/**
 * Base class of every error this library throws. `code` is a stable string to branch on;
 * messages are for people and never contain a secret (client secret, password, refresh or
 * access token): server text in them, and in their `cause`, has every secret the manager knows
 * replaced by `[redacted]`.
 */
export class OAuthInterceptorsError extends Error {
  /** The class name, kept through bundlers and across copies of core. */
  override name = 'OAuthInterceptorsError'
  /** A stable, machine-readable reason, e.g. `invalid_grant`, `timeout`, `invalid_config`. */
  readonly code: ErrorCode
  /** `true` when trying again later may succeed (5xx, 408, 429, network, timeout). */
  readonly transient: boolean
  /**
   * Milliseconds the server asked us to wait (`Retry-After`), when it said.
   * @default undefined
   */
  readonly retryAfter: number | undefined

  constructor(
    message: string,
    code: ErrorCode,
    options: { cause?: unknown; transient?: boolean; retryAfter?: number | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.transient = options.transient ?? false
    this.retryAfter = options.retryAfter
  }

  /** A serialisable, secret-free view (what `JSON.stringify(error)` prints). */
  toJSON(): Record<string, unknown> {
    const { stack: _stack, cause: _cause, ...own } = this as unknown as Record<string, unknown>
    return { name: this.name, message: this.message, ...own }
  }
}

/** Codes after which asking again with the same credentials cannot succeed (RFC 6749 §5.2). */
const TERMINAL_OAUTH_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'access_denied',
])

/**
 * Whether an HTTP status says the same request may succeed later: 408 Request Timeout, 429 Too
 * Many Requests and every 5xx. The one rule for token responses, with or without an OAuth body.
 */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

/**
 * Whether an RFC 6749 §5.2 error may go away by asking again: never for codes that say the
 * credentials or request are wrong, else on a transient status or a code that says so.
 */
export function isTransientOAuthError(code: string, status: number): boolean {
  if (TERMINAL_OAUTH_CODES.has(code)) return false
  return isTransientStatus(status) || code === 'temporarily_unavailable' || code === 'server_error'
}

/**
 * The authorization server answered with an RFC 6749 §5.2 error body, on any status
 * (some servers answer 200 with an `error` member).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends OAuthInterceptorsError {
  /** Always `'OAuthError'`. */
  override name = 'OAuthError'
  /** The `error` member, e.g. `invalid_client`. Same as `code`. */
  readonly error: OAuthErrorCode
  /** The `error_description` member: for people, may be absent. */
  readonly errorDescription: string | undefined
  /** The `error_uri` member: a page about the error, may be absent. */
  readonly errorUri: string | undefined
  /** HTTP status of the token response. */
  readonly status: number

  constructor(
    body: { error: string; error_description?: unknown; error_uri?: unknown },
    status: number,
    retryAfter?: number | undefined,
  ) {
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined
    super(
      `The token endpoint answered ${status} ${body.error}${description ? `: ${description}` : ''}`,
      body.error,
      { transient: isTransientOAuthError(body.error, status), retryAfter },
    )
    this.error = body.error
    this.errorDescription = description
    this.errorUri = typeof body.error_uri === 'string' ? body.error_uri : undefined
    this.status = status
  }
}

/**
 * The token request failed on the way: HTTP status without an OAuth error body, network
 * failure, timeout, a response we cannot use (not JSON/form, no `access_token`), or a
 * grant's own code that threw while building the request or reading the response
 * (`custom_grant_error`, with what it threw as `cause`), or a request that would have carried a
 * refresh token `revoke()` revoked (`token_revoked`, not sent).
 */
export class TokenEndpointError extends OAuthInterceptorsError {
  /** Always `'TokenEndpointError'`. */
  override name = 'TokenEndpointError'
  declare readonly code: TokenEndpointErrorCode
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined

  constructor(
    message: string,
    code: TokenEndpointErrorCode,
    options: {
      status?: number
      cause?: unknown
      transient?: boolean
      retryAfter?: number | undefined
    } = {},
  ) {
    super(message, code, options)
    this.status = options.status
  }
}

/**
 * Revoking a token (RFC 7009) failed. `code` is the server's RFC 6749 §5.2 `error` (e.g.
 * `unsupported_token_type`, `invalid_client`) or, without one, `http_error` (a 503 says the
 * server could not revoke it now: `transient`), `network_error`, `timeout` or
 * `custom_grant_error`. The token was dropped from the manager all the same; the message never
 * contains it. `cause` is the underlying error, redacted like every other.
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1
 */
export class RevocationError extends OAuthInterceptorsError {
  /** Always `'RevocationError'`. */
  override name = 'RevocationError'
  /** Which token could not be revoked. */
  readonly tokenTypeHint: 'access_token' | 'refresh_token'
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined
  /** The `error_description` member of the server's answer, if any (redacted). */
  readonly errorDescription: string | undefined

  constructor(
    message: string,
    code: ErrorCode,
    options: {
      tokenTypeHint: 'access_token' | 'refresh_token'
      status?: number | undefined
      errorDescription?: string | undefined
      cause?: unknown
      transient?: boolean
      retryAfter?: number | undefined
    },
  ) {
    super(message, code, options)
    this.tokenTypeHint = options.tokenTypeHint
    this.status = options.status
    this.errorDescription = options.errorDescription
  }
}

/**
 * A user session has no usable token: it was never set, was ended, its tokens expired without a
 * refresh token, or the server refused its refresh token (`invalid_grant`: expired, revoked or
 * already used). Its tokens are gone; send the user to log in again, then `setSession()`.
 * `cause` is the server's refusal, when there was one (redacted like every error).
 */
export class LoginRequiredError extends OAuthInterceptorsError {
  /** Always `'LoginRequiredError'`. */
  override name = 'LoginRequiredError'
  declare readonly code: 'login_required'

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, 'login_required', options)
  }
}

/** An option passed at construction is missing or invalid. `option` names it. */
export class ConfigError extends OAuthInterceptorsError {
  /** Always `'ConfigError'`. */
  override name = 'ConfigError'
  /** The option at fault, e.g. `clientId` or `refreshSkew`. */
  readonly option: string

  constructor(option: string, problem: string, fix: string) {
    super(`Invalid option "${option}": ${problem}. ${fix}`, 'invalid_config')
    this.option = option
  }
}

/** True for any error thrown by this library, also across realms and package copies. */
export function isOAuthInterceptorsError(error: unknown): error is OAuthInterceptorsError {
  return (
    error instanceof OAuthInterceptorsError ||
    (error instanceof Error &&
      typeof (error as { code?: unknown }).code === 'string' &&
      typeof (error as { transient?: unknown }).transient === 'boolean')
  )
}

/** True for an RFC 6749 §5.2 error answered by the authorization server. */
export function isOAuthError(error: unknown): error is OAuthError {
  return (
    error instanceof OAuthError || (isOAuthInterceptorsError(error) && error.name === 'OAuthError')
  )
}
