export type { FetchFunction } from '@oauth-interceptors/core/adapter'
export type { OAuthFetch, OAuthFetchOptions, OAuthRequestInit } from './oauth-fetch'
export { oauthFetch } from './oauth-fetch'
