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
export type { AuthConfig, RequestPolicyOptions, ResponseLike } from './pipeline/policy'
export { isTokenRejected } from './pipeline/policy'
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
