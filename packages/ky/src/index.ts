export type { AfterResponseHook, BeforeRequestHook, OAuthHooks } from './hooks'
export { oauthHooks } from './hooks'
