/**
 * OAuth 2.0 access tokens for ofetch: options with hooks for `ofetch.create()` over `@oauth-
 * interceptors/core`. Start with {@link oauthOptions}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/ofetch
 */
export type { OAuthOfetchOptions } from './oauth-options'
export { oauthOptions } from './oauth-options'
