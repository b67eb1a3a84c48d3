/**
 * OAuth 2.0 access tokens for undici (and so for Node's global `fetch`): an interceptor for
 * `Dispatcher#compose()` over `@oauth-interceptors/core`. Start with {@link oauthInterceptor}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/undici
 */
export type { OAuthDispatchOptions } from './interceptor'
export { oauthInterceptor } from './interceptor'
