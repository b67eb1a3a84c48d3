import type { Token, TokenLock, TokenStore } from '../types'

/** A store operation, as `store_error` events name it. */
export type StoreOperation = 'get' | 'set' | 'delete' | 'acquire' | 'release' | 'waitForChange'

const STORE_FAILED = Symbol('store failed')

/** One refresh of one key, as the manager hands it to {@link StoreSharing.obtain}. */
export interface SharedRefresh {
  /** The token in memory being replaced, if any. */
  readonly current: Token | undefined
  /** Whether a resource server rejected `current`: then the store must not hand it back. */
  readonly rejected: boolean
  /** Gets a new token from the endpoint; `previous` is the newest known token (its refresh token). */
  fromEndpoint(previous: Token | undefined): Promise<Token>
  /** Takes a token another manager or process stored. */
  fromStore(token: Token): Token
  /** With DPoP: the thumbprint of this manager's key; a DPoP token bound to another key is not used. */
  readonly binding?: string | undefined
  /**
   * The store is the key's only source of truth (a user session): a key missing from a working
   * store has ended, and memory's copy must not bring it back with its refresh token.
   */
  readonly authoritative?: boolean | undefined
}

/** What a manager gives the protocol of its shared store (see {@link SharedTokenStore.share}). */
export interface StoreSharingOptions {
  /** How long a refresh lock may be held in ms (the manager's `lockTtl`). */
  readonly lockTtl: number
  /** The manager's clock. */
  readonly now: () => number
  /** Reports a failing store operation (a `store_error` event); the operation then counts as failed. */
  readonly onError: (key: string, operation: StoreOperation, error: unknown) => void
}

/**
 * The shared-store protocol a manager runs over its store (look there first, refresh under the
 * store's lock, write back), made by {@link SharedTokenStore.share}.
 */
export interface StoreSharing {
  /** A token for `key`: a usable shared one, else a new one from the endpoint, stored. */
  obtain(key: string, refresh: SharedRefresh): Promise<Token>
  /** Deletes `key` under its lock where the store locks (a user session's logout). */
  remove(key: string): Promise<void>
  /** `{ token }` as the store holds it under `key`, or `undefined` when the store failed. */
  read(key: string): Promise<
    | {
        /** The token kept under `key`, or `undefined` when there is none. */
        token: Token | undefined
      }
    | undefined
  >
  /** Stores `token` under `key`. */
  put(key: string, token: Token): Promise<void>
  /** The token kept under `key`, deleted from the store; `undefined` when none or the store failed. */
  take(key: string): Promise<Token | undefined>
}

/**
 * A {@link TokenStore} token managers can share tokens through: `sharedStore(store)` from
 * `@oauth-interceptors/core/store` for a store of your own, or a store made for it
 * (`MemoryTokenStore`, `redisTokenStore()`, `browserTokenStore()`).
 */
export interface SharedTokenStore extends TokenStore {
  /**
   * The sharing protocol a token manager runs over this store; the manager calls it once. A
   * store class returns `shareTokens(this, options)` from `@oauth-interceptors/core/store`.
   */
  share(options: StoreSharingOptions): StoreSharing
}

/**
 * The shared-store protocol: before asking the token endpoint, look in the store; with a
 * store that locks, let one holder refresh while the others wait for its token; write new
 * tokens back. A failing store is reported through `onError` and never fails a refresh.
 */
export class StoreProtocol implements StoreSharing {
  readonly #store: TokenStore
  readonly #lockTtl: number
  readonly #now: () => number
  readonly #onError: (key: string, operation: StoreOperation, error: unknown) => void

  constructor(store: TokenStore, options: StoreSharingOptions) {
    this.#store = store
    this.#lockTtl = options.lockTtl
    this.#now = options.now
    this.#onError = options.onError
  }

  /** A token for `key`: a usable shared one, else a new one from the endpoint, stored. */
  async obtain(key: string, refresh: SharedRefresh): Promise<Token> {
    const store = this.#store
    let shared = await this.#call(key, 'get', () => store.get(key))
    if (this.#usable(shared, refresh)) return refresh.fromStore(shared)
    if (store.acquire) {
      // Waiters give up after two lock lifetimes: a holder that died has lost its lock by then.
      const deadline = this.#now() + 2 * this.#lockTtl
      for (;;) {
        const lock: TokenLock | undefined | typeof STORE_FAILED = await this.#call(
          key,
          'acquire',
          () => store.acquire?.(key, this.#lockTtl),
        )
        if (lock === STORE_FAILED) break
        if (lock) {
          try {
            shared = await this.#call(key, 'get', () => store.get(key))
            if (this.#usable(shared, refresh)) return refresh.fromStore(shared)
            // The newest refresh token known: memory's is newer when a write to the store failed.
            const previous = ended(shared, refresh) ? undefined : newest(shared, refresh)
            return await this.#save(key, await refresh.fromEndpoint(previous))
          } finally {
            await this.#call(key, 'release', () => lock.release())
          }
        }
        const remaining = deadline - this.#now()
        if (remaining <= 0) break
        const waited = await this.#call(key, 'waitForChange', () =>
          store.waitForChange?.(key, remaining),
        )
        if (waited === STORE_FAILED) break
        shared = await this.#call(key, 'get', () => store.get(key))
        if (this.#usable(shared, refresh)) return refresh.fromStore(shared)
      }
    }
    // No lock: the newest refresh token known is the stored one, unless memory holds a newer token.
    const previous = ended(shared, refresh) ? undefined : newest(shared, refresh)
    return this.#save(key, await refresh.fromEndpoint(previous))
  }

  /**
   * Deletes `key` under its lock where the store locks: a refresh of it under way elsewhere
   * stores its token first, so the deletion is the last word (a user session's logout).
   */
  async remove(key: string): Promise<void> {
    const store = this.#store
    const deadline = this.#now() + 2 * this.#lockTtl
    let lock: TokenLock | undefined | typeof STORE_FAILED
    while (store.acquire) {
      lock = await this.#call(key, 'acquire', () => store.acquire?.(key, this.#lockTtl))
      const remaining = deadline - this.#now()
      if (lock !== undefined || remaining <= 0) break
      const waited = await this.#call(key, 'waitForChange', () =>
        store.waitForChange?.(key, remaining),
      )
      if (waited === STORE_FAILED) break
    }
    try {
      await this.#call(key, 'delete', () => store.delete(key))
    } finally {
      if (lock && lock !== STORE_FAILED) await this.#call(key, 'release', () => lock.release())
    }
  }

  /**
   * What the store holds under `key` right now: `{ token }` (`undefined` when nothing), or
   * `undefined` when the store failed (reported).
   */
  async read(key: string): Promise<{ token: Token | undefined } | undefined> {
    const shared = await this.#call(key, 'get', () => this.#store.get(key))
    return shared === STORE_FAILED ? undefined : { token: shared }
  }

  /** Stores `token` under `key`: tokens that came from elsewhere (a session's login). */
  async put(key: string, token: Token): Promise<void> {
    await this.#save(key, token)
  }

  /**
   * The token kept under `key`, deleted from the store (for revocation). A failing store is
   * reported and gives `undefined`.
   */
  async take(key: string): Promise<Token | undefined> {
    const shared = await this.#call(key, 'get', () => this.#store.get(key))
    await this.#call(key, 'delete', () => this.#store.delete(key))
    return shared === STORE_FAILED ? undefined : shared
  }

  #usable(token: Token | undefined | typeof STORE_FAILED, refresh: SharedRefresh): token is Token {
    const replacing = refresh.current
    return (
      token !== undefined &&
      token !== STORE_FAILED &&
      bound(token, refresh.binding) &&
      !(refresh.rejected && token.accessToken === replacing?.accessToken) &&
      (token.refreshAt === undefined || this.#now() < token.refreshAt) &&
      // A shared token older than the one being replaced was itself replaced already: Redis
      // missed the newer write (an outage). Same grant, same lifetime: expiresAt orders them.
      !(
        replacing?.expiresAt !== undefined &&
        token.expiresAt !== undefined &&
        token.expiresAt < replacing.expiresAt
      )
    )
  }

  async #save(key: string, token: Token): Promise<Token> {
    await this.#call(key, 'set', () => this.#store.set(key, token))
    return token
  }

  /** Runs a store operation; a failing store is reported and never fails the caller. */
  async #call<T>(
    key: string,
    operation: StoreOperation,
    run: () => T | Promise<T>,
  ): Promise<T | typeof STORE_FAILED> {
    try {
      return await run()
    } catch (error) {
      this.#onError(key, operation, error)
      return STORE_FAILED
    }
  }
}

/**
 * The sharing protocol over `store`: what the `share()` method of a store class returns.
 * @example
 * class MyStore implements SharedTokenStore {
 *   share(options: StoreSharingOptions) { return shareTokens(this, options) }
 *   // get, set, delete, and acquire and waitForChange for a lock
 * }
 */
export function shareTokens(store: TokenStore, options: StoreSharingOptions): StoreSharing {
  return new StoreProtocol(store, options)
}

/** Whether `token` is bound to this manager's DPoP key, or needs no key (RFC 9449 §6). */
export function bound(token: Token, binding: string | undefined): boolean {
  return token.tokenType !== 'DPoP' || token.jkt === binding
}

/** Whether an authoritative key is gone from a working store: ended elsewhere. */
function ended(shared: Token | undefined | typeof STORE_FAILED, refresh: SharedRefresh): boolean {
  return refresh.authoritative === true && shared === undefined
}

/**
 * The token whose refresh token to use: the stored one (another process may have rotated it,
 * or memory no longer holds the key), unless it is bound to another key or older than memory's.
 */
function newest(
  shared: Token | undefined | typeof STORE_FAILED,
  refresh: SharedRefresh,
): Token | undefined {
  const current = refresh.current
  if (shared === undefined || shared === STORE_FAILED || !bound(shared, refresh.binding))
    return current
  if (
    current?.expiresAt !== undefined &&
    (shared.expiresAt === undefined || shared.expiresAt < current.expiresAt)
  ) {
    return current
  }
  return shared
}
