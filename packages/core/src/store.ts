/**
 * Shared token stores, imported from `@oauth-interceptors/core/store`: what a token manager's
 * `store` runs on to share tokens and their refresh between managers and processes (look in the
 * store first; with a store that locks, one holder refreshes while the others wait for its
 * token; new tokens are written back). `redisTokenStore()` and `browserTokenStore()` are made
 * for it; wrap a `TokenStore` of your own with {@link sharedStore}. The code lives here and in
 * those stores only, so an app without a store does not ship it.
 *
 * @example
 * import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
 * import { sharedStore } from '@oauth-interceptors/core/store'
 *
 * const tokens = createTokenManager({
 *   grant: clientCredentials({ tokenUrl, clientId, clientSecret }),
 *   store: sharedStore({ get: (key) => cache.get(key), set: (key, token) => cache.set(key, token), delete: (key) => cache.delete(key) }),
 * })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/store
 */
import { ConfigError } from './errors'
import {
  type SharedTokenStore,
  type StoreSharing,
  type StoreSharingOptions,
  shareTokens,
} from './manager/store-protocol'
import type { Token, TokenLock, TokenStore } from './types'

export { MemoryTokenStore } from './manager/memory-store'
export type {
  SharedRefresh,
  SharedTokenStore,
  StoreOperation,
  StoreSharing,
  StoreSharingOptions,
} from './manager/store-protocol'
export { shareTokens } from './manager/store-protocol'
export type { Token, TokenLock, TokenStore } from './types'

/**
 * A `TokenStore` of your own, made shareable: pass the result as a token manager's `store`.
 * Its `get`, `set` and `delete` are called as methods of `store`; give it `acquire` and
 * `waitForChange` too for one refresh per key across processes. A store made for sharing
 * (`MemoryTokenStore`, `redisTokenStore()`, `browserTokenStore()`) is returned as it is.
 * @example
 * store: sharedStore({
 *   get: (key) => cache.get(key),
 *   set: (key, token) => cache.set(key, token, { until: token.expiresAt }),
 *   delete: (key) => cache.delete(key),
 * })
 */
export function sharedStore(store: TokenStore): SharedTokenStore {
  const given = store as Partial<SharedTokenStore> | null
  if (typeof given?.share === 'function') return given as SharedTokenStore
  for (const method of ['get', 'set', 'delete'] as const) {
    if (typeof given?.[method] !== 'function') {
      throw new ConfigError(
        'store',
        `expected a TokenStore with get, set and delete, and ${method} is not a function`,
        'Pass an object with get(key), set(key, token) and delete(key), optionally acquire(key, ttlMs) and waitForChange(key, timeoutMs) for a lock.',
      )
    }
  }
  const shared: SharedTokenStore = {
    get: (key: string) => store.get(key),
    set: (key: string, token: Token) => store.set(key, token),
    delete: (key: string) => store.delete(key),
    share: (options: StoreSharingOptions): StoreSharing => shareTokens(shared, options),
  }
  if (store.acquire) {
    shared.acquire = (
      key: string,
      ttlMs: number,
    ): Promise<TokenLock | undefined> | TokenLock | undefined => store.acquire?.(key, ttlMs)
  }
  if (store.waitForChange) {
    shared.waitForChange = (key: string, timeoutMs: number) =>
      store.waitForChange?.(key, timeoutMs) ?? Promise.resolve()
  }
  return shared
}
