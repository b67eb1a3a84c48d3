/**
 * OAuth 2.0 token state for HTTP clients: grants, client authentication, caching, expiry,
 * single-flight refresh, typed errors and events. Start with {@link createTokenManager} and a
 * grant such as {@link clientCredentials}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core
 */
export type { ErrorCode, OAuthErrorCode, TokenEndpointErrorCode } from './errors'
export {
  ConfigError,
  isOAuthError,
  isOAuthInterceptorsError,
  LoginRequiredError,
  OAuthError,
  OAuthInterceptorsError,
  RevocationError,
  TokenEndpointError,
} from './errors'
export type {
  ClientAuth,
  ClientOptions,
  CustomGrantOptions,
  CustomTokenRequest,
  DiscoveryContext,
  Grant,
  Issuer,
  IssuerMetadata,
  PasswordGrantOptions,
  RefreshTokenGrantOptions,
  ResolvedParams,
  SubjectToken,
  TokenParams,
  TokenRequest,
  TokenResponse,
  TokenTypeHint,
} from './grants/grants'
export {
  basicAuthorization,
  clientCredentials,
  customGrant,
  passwordGrant,
  refreshTokenGrant,
} from './grants/grants'
export type { FetchLike } from './grants/token-endpoint'
export { MemoryTokenStore } from './manager/memory-store'
export type { RetryOptions } from './manager/retry'
export type {
  CloseOptions,
  EndSessionOptions,
  GetTokenOptions,
  RevokeOptions,
  RevokeResult,
  TokenManager,
  TokenManagerOptions,
  TokenOptions,
} from './manager/token-manager'
export { createTokenManager } from './manager/token-manager'
export type { AuthConfig, RequestPolicyOptions, ResponseLike } from './pipeline/policy'
export { isTokenRejected } from './pipeline/policy'
export type {
  MaybePromise,
  RefreshReason,
  Timers,
  Token,
  TokenEvent,
  TokenLock,
  TokenStats,
  TokenStore,
} from './types'
