export type { AfterResponseHook, BeforeRequestHook, OAuthHooks, OAuthHooksOptions } from './hooks'
export { oauthHooks } from './hooks'
