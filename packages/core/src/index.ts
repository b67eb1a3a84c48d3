export type { TokenEndpointErrorCode } from './errors'
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
} from './grants'
export {
  basicAuthorization,
  clientCredentials,
  customGrant,
  passwordGrant,
  refreshTokenGrant,
} from './grants'
export { MemoryTokenStore } from './memory-store'
export type { Redirect, RedirectHop } from './redirect'
export { isReplayableBody, redirectHop } from './redirect'
export type {
  AuthConfig,
  Authorization,
  RequestPolicyOptions,
  ResponseLike,
} from './request-policy'
export { createRequestPolicy, isTokenRejected, RequestPolicy } from './request-policy'
export type { FetchLike, RetryOptions } from './token-endpoint'
export type { GetTokenOptions, TokenManagerOptions } from './token-manager'
export { createTokenManager, TokenManager } from './token-manager'
export type {
  MaybePromise,
  RefreshReason,
  Token,
  TokenEvent,
  TokenLock,
  TokenStats,
  TokenStore,
} from './types'
