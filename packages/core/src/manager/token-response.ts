import { isOAuthInterceptorsError, TokenEndpointError } from '../errors'
import { customGrantError, type Grant } from '../grants/grants'
import { bodySecrets, lazyRedactor, redactValue } from '../redact'
import type { Token } from '../types'
import { expiryTimes, tokenLifetime } from './expiry'

/** RFC 6750 §2.1 `b64token`: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** RFC 7230 §3.2.6 `token`: 1*tchar. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/

/** What turning a token response into a {@link Token} depends on. */
export interface TokenResponseSettings {
  readonly grant: Grant
  /** Accepted token types, lower case. */
  readonly tokenTypes: ReadonlySet<string>
  readonly refreshSkew: number
  readonly defaultLifetime: number | undefined
}

/**
 * The {@link Token} in a successful response body of a request started at `startedAt`.
 * Throws `TokenEndpointError` when the body holds no usable token.
 */
export function toToken(
  body: Record<string, unknown>,
  settings: TokenResponseSettings,
  startedAt: number,
  usedRefreshToken: string | undefined,
): Token {
  // Error paths only: the grant's secrets, the refresh token sent and the credentials in the body.
  const redact = lazyRedactor(() => [
    ...(settings.grant.secrets?.() ?? []),
    usedRefreshToken,
    ...bodySecrets(body),
  ])
  let parsed: ReturnType<Grant['parse']>
  try {
    parsed = settings.grant.parse(body)
  } catch (cause) {
    // A parse() that quotes the body it could not read would otherwise put the token in `cause`.
    throw redactValue(
      isOAuthInterceptorsError(cause)
        ? cause
        : customGrantError("The grant's parse() failed", cause),
      redact,
    )
  }
  const accessToken = parsed?.accessToken
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenEndpointError('The token response has no access_token', 'invalid_response')
  }
  // Checked before any request carries it: a CR/LF token would otherwise reach the platform's
  // Headers, whose TypeError quotes the token. The messages never include the value.
  if (!B64TOKEN.test(accessToken)) {
    throw new TokenEndpointError(
      'The token response has an access_token that is not an RFC 6750 §2.1 b64token (it holds characters a header cannot carry)',
      'invalid_response',
    )
  }
  if (parsed.tokenType !== undefined && !HTTP_TOKEN.test(parsed.tokenType)) {
    throw new TokenEndpointError(
      'The token response has a token_type that is not an RFC 7230 token',
      'invalid_response',
    )
  }
  const tokenType =
    parsed.tokenType === undefined || /^bearer$/i.test(parsed.tokenType)
      ? 'Bearer'
      : /^dpop$/i.test(parsed.tokenType)
        ? 'DPoP'
        : parsed.tokenType
  if (!settings.tokenTypes.has(tokenType.toLowerCase())) {
    throw new TokenEndpointError(
      `The token endpoint issued a "${redact(tokenType)}" token; accept it with the tokenTypes option if your API understands it`,
      'unsupported_token_type',
    )
  }
  const lifetime = tokenLifetime(parsed.expiresIn, accessToken, settings.defaultLifetime)
  return {
    accessToken,
    tokenType,
    ...expiryTimes(lifetime, startedAt, settings.refreshSkew),
    // RFC 6749 §6: a refresh response without a refresh token keeps the old one.
    refreshToken: parsed.refreshToken ?? usedRefreshToken,
    scope: parsed.scope,
    raw: body,
  }
}
