export type { OAuthFetchOptions } from './oauth-options'
export { oauthOptions } from './oauth-options'
