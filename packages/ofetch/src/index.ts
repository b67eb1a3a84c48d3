export type { OAuthOfetchOptions } from './oauth-options'
export { oauthOptions } from './oauth-options'
