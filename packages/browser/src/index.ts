/**
 * A browser `TokenStore` for `@oauth-interceptors/core`: the tabs of an origin share tokens
 * and refresh them once, also with rotating refresh tokens. Start with {@link browserTokenStore}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/browser
 */
export type {
  BroadcastChannelLike,
  BrowserTokenStoreOptions,
  LockManagerLike,
  StorageLike,
} from './browser-token-store'
export { BrowserTokenStore, browserTokenStore } from './browser-token-store'
