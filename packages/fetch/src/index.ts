/**
 * OAuth 2.0 access tokens for the platform `fetch`: a fetch-compatible wrapper over `@oauth-
 * interceptors/core`. Start with {@link oauthFetch}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/fetch
 */
export type { FetchFunction } from '@oauth-interceptors/core/adapter'
export type { OAuthFetch, OAuthFetchOptions, OAuthRequestInit } from './oauth-fetch'
export { oauthFetch } from './oauth-fetch'
