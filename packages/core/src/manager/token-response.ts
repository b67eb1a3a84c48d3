import { isOAuthInterceptorsError, TokenEndpointError } from '../errors'
import { customGrantError, type Grant } from '../grants/grants'
import type { Token } from '../types'
import { expiryTimes, tokenLifetime } from './expiry'

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
  let parsed: ReturnType<Grant['parse']>
  try {
    parsed = settings.grant.parse(body)
  } catch (cause) {
    throw isOAuthInterceptorsError(cause)
      ? cause
      : customGrantError("The grant's parse() failed", cause)
  }
  const accessToken = parsed?.accessToken
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenEndpointError('The token response has no access_token', 'invalid_response')
  }
  const tokenType =
    parsed.tokenType === undefined || /^bearer$/i.test(parsed.tokenType)
      ? 'Bearer'
      : parsed.tokenType
  if (!settings.tokenTypes.has(tokenType.toLowerCase())) {
    throw new TokenEndpointError(
      `The token endpoint issued a "${tokenType}" token; accept it with the tokenTypes option if your API understands it`,
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
