/**
 * OAuth 2.0 access tokens for ky 1 and 2: options for `ky.create()` over `@oauth-
 * interceptors/core`. Start with {@link oauthOptions}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/ky
 */
export type { HookArguments, OAuthKyInstanceOptions, OAuthKyOptions } from './oauth-options'
export { oauthOptions } from './oauth-options'
