/**
 * Base class of every error this library throws. `code` is a stable string to branch on;
 * messages are for people and never contain a secret (client secret, password, refresh or
 * access token).
 */
export class OAuthInterceptorsError extends Error {
  override name = 'OAuthInterceptorsError'
  /** A stable, machine-readable reason, e.g. `invalid_grant`, `timeout`, `invalid_config`. */
  readonly code: string
  /** `true` when trying again later may succeed (5xx, 429, network, timeout). */
  readonly transient: boolean

  constructor(
    message: string,
    code: string,
    options: { cause?: unknown; transient?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.transient = options.transient ?? false
  }

  /** A serialisable, secret-free view (what `JSON.stringify(error)` prints). */
  toJSON(): Record<string, unknown> {
    const { stack: _stack, cause: _cause, ...own } = this as unknown as Record<string, unknown>
    return { name: this.name, message: this.message, ...own }
  }
}

/** Codes after which asking again with the same credentials cannot succeed (RFC 6749 §5.2). */
const TERMINAL_OAUTH_CODES = new Set([
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
 * The authorization server answered with an RFC 6749 §5.2 error body, on any status
 * (some servers answer 200 with an `error` member).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends OAuthInterceptorsError {
  override name = 'OAuthError'
  /** The `error` member, e.g. `invalid_client`. Same as `code`. */
  readonly error: string
  readonly errorDescription: string | undefined
  readonly errorUri: string | undefined
  /** HTTP status of the token response. */
  readonly status: number
  /** Milliseconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined

  constructor(
    body: { error: string; error_description?: unknown; error_uri?: unknown },
    status: number,
    retryAfter?: number,
  ) {
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined
    super(
      `The token endpoint answered ${status} ${body.error}${description ? `: ${description}` : ''}`,
      body.error,
      {
        transient:
          !TERMINAL_OAUTH_CODES.has(body.error) &&
          (status >= 500 ||
            status === 429 ||
            body.error === 'temporarily_unavailable' ||
            body.error === 'server_error'),
      },
    )
    this.error = body.error
    this.errorDescription = description
    this.errorUri = typeof body.error_uri === 'string' ? body.error_uri : undefined
    this.status = status
    this.retryAfter = retryAfter
  }
}

/** Reasons a token request failed without an OAuth error body. */
export type TokenEndpointErrorCode =
  | 'http_error'
  | 'network_error'
  | 'timeout'
  | 'invalid_response'
  | 'unsupported_token_type'

/**
 * The token request failed on the way: HTTP status without an OAuth error body, network
 * failure, timeout, or a response we cannot use (not JSON/form, no `access_token`).
 */
export class TokenEndpointError extends OAuthInterceptorsError {
  override name = 'TokenEndpointError'
  declare readonly code: TokenEndpointErrorCode
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined
  /** Milliseconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined

  constructor(
    message: string,
    code: TokenEndpointErrorCode,
    options: { status?: number; cause?: unknown; transient?: boolean; retryAfter?: number } = {},
  ) {
    super(message, code, options)
    this.status = options.status
    this.retryAfter = options.retryAfter
  }
}

/** An option passed at construction is missing or invalid. `option` names it. */
export class ConfigError extends OAuthInterceptorsError {
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
