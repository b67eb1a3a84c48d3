export type { ErrorCode, OAuthErrorCode, TokenEndpointErrorCode } from './errors'
export {
  ConfigError,
  isOAuthError,
  isOAuthInterceptorsError,
  OAuthError,
  OAuthInterceptorsError,
  TokenEndpointError,
} from './errors'
export type {
  ClientAuth,
  ClientOptions,
  CustomGrantOptions,
  CustomTokenRequest,
  Grant,
  PasswordGrantOptions,
  RefreshTokenGrantOptions,
  ResolvedParams,
  TokenParams,
  TokenRequest,
  TokenResponse,
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
export type { GetTokenOptions, TokenManagerOptions } from './manager/token-manager'
export { createTokenManager, TokenManager } from './manager/token-manager'
export type { Redirect, RedirectHop } from './redirect'
export { isReplayableBody, redirectHop } from './redirect'
export type {
  AuthConfig,
  Authorization,
  RequestPolicyOptions,
  ResponseLike,
} from './request-policy'
export { createRequestPolicy, isTokenRejected, RequestPolicy } from './request-policy'
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
