/**
 * OAuth 2.0 access tokens for axios: request and response interceptors over `@oauth-
 * interceptors/core`. Start with {@link oauthInterceptor}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/axios
 */
export type { OAuthInterceptor } from './interceptor'
export { oauthInterceptor } from './interceptor'
