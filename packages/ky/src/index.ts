export type { OAuthKyInstanceOptions, OAuthKyOptions } from './oauth-options'
export { oauthOptions } from './oauth-options'
