export type { OAuthInterceptor } from './interceptor'
export { oauthInterceptor } from './interceptor'
