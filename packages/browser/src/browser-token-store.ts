import { ConfigError, type Token, type TokenLock } from '@oauth-interceptors/core'
import {
  type SharedTokenStore,
  type StoreSharing,
  type StoreSharingOptions,
  shareTokens,
} from '@oauth-interceptors/core/store'

/** The part of `navigator.locks` (Web Locks) the store uses; pass your own only in tests. */
export interface LockManagerLike {
  /**
   * Runs `callback` while holding the lock `name`; with `ifAvailable`, at once with `null`
   * when another holder has it. The lock is held until the callback's promise settles.
   */
  request<T>(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => T | PromiseLike<T>,
  ): Promise<T>
}

/** The part of a `BroadcastChannel` the store uses; pass your own only in tests. */
export interface BroadcastChannelLike {
  /** Sends `message` to the other tabs of the origin listening on the same channel name. */
  postMessage(message: unknown): void
  /** Calls `listener` for each message another tab sent. */
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void
  /** Stops listening; `store.close()` calls it. */
  close(): void
}

/** The part of the Web Storage API (`localStorage`) the store uses for persistence. */
export interface StorageLike {
  /** The value kept under `key`, or `null`. */
  getItem(key: string): string | null
  /** Keeps `value` under `key`. */
  setItem(key: string, value: string): void
  /** Drops the value kept under `key`. */
  removeItem(key: string): void
}

/** Options of {@link browserTokenStore}. */
export interface BrowserTokenStoreOptions {
  /** Names the lock, the channel and the storage entries: tabs with the same name share tokens. @default 'oauth-interceptors' */
  name?: string | undefined
  /**
   * Also keep tokens in this storage (e.g. `localStorage`), so a reload or a new tab starts
   * with them. They are then on disk, in clear text, readable by any script of the origin.
   * @default undefined (tokens live only in the memory of open tabs)
   */
  persist?: StorageLike | undefined
  /** How long in ms a tab waits for the other tabs' answers when it has no token or takes the lock. @default 50 */
  syncTimeout?: number | undefined
  /** The Web Locks manager. @default navigator.locks */
  locks?: LockManagerLike | undefined
  /** The channel tokens are handed to the other tabs on. @default new BroadcastChannel(name) */
  channel?: BroadcastChannelLike | undefined
}

type Message =
  | { type: 'set'; key: string; token: Token }
  | { type: 'delete'; key: string }
  | { type: 'ask'; key: string; id: string }
  | { type: 'answer'; key: string; id: string; token: Token }

/**
 * A {@link SharedTokenStore} for the tabs of one origin: they share tokens and refresh them once.
 * Web Locks (`navigator.locks`) give one tab the refresh; it stores the new token, rotated
 * refresh token included, and hands it to the other tabs over a `BroadcastChannel` before it
 * releases the lock. A tab that closes while it holds the lock loses it at once.
 * @example
 * const tokens = createTokenManager({ grant, store: browserTokenStore() })
 */
export class BrowserTokenStore implements SharedTokenStore {
  readonly #name: string
  readonly #persist: StorageLike | undefined
  readonly #syncTimeout: number
  readonly #locks: LockManagerLike
  readonly #channel: BroadcastChannelLike
  readonly #tokens = new Map<string, Token>()
  /** Who waits for a change of a key: `waitForChange` and `#sync`. */
  readonly #listeners = new Set<(message: Message) => void>()
  #closed = false

  constructor(options: BrowserTokenStoreOptions = {}) {
    const name = options.name ?? 'oauth-interceptors'
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError('name', 'expected a non-empty string', "Pass e.g. name: 'my-app'.")
    }
    const syncTimeout = options.syncTimeout ?? 50
    if (typeof syncTimeout !== 'number' || !Number.isFinite(syncTimeout) || syncTimeout < 0) {
      throw new ConfigError(
        'syncTimeout',
        `expected milliseconds >= 0, got ${String(syncTimeout)}`,
        'Pass e.g. syncTimeout: 50, or leave it out.',
      )
    }
    const locks =
      options.locks ?? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
    if (typeof locks?.request !== 'function') {
      throw new ConfigError(
        'locks',
        'navigator.locks (Web Locks) is not available here; it needs a secure context (https: or http://localhost)',
        'Serve the page over https, or pass locks: a Web Locks LockManager.',
      )
    }
    let channel = options.channel
    if (channel === undefined) {
      if (typeof BroadcastChannel !== 'function') {
        throw new ConfigError(
          'channel',
          'BroadcastChannel is not available here, so tabs cannot hand tokens to each other',
          'Pass channel: an object with postMessage, addEventListener and close, or use no store (each tab then needs its own refresh token).',
        )
      }
      channel = new BroadcastChannel(`${name}:tokens`)
    }
    this.#name = name
    this.#persist = options.persist
    this.#syncTimeout = syncTimeout
    this.#locks = locks
    this.#channel = channel
    channel.addEventListener('message', (event) => this.#receive(event.data))
  }

  /** The sharing protocol a token manager runs over this store (see `TokenManagerOptions.store`). */
  share(options: StoreSharingOptions): StoreSharing {
    return shareTokens(this, options)
  }

  async get(key: string): Promise<Token | undefined> {
    const token = this.#tokens.get(key)
    if (token !== undefined) return token
    await this.#sync(key)
    return this.#tokens.get(key) ?? this.#fromStorage(key)
  }

  set(key: string, token: Token): void {
    this.#tokens.set(key, token)
    this.#persist?.setItem(this.#storageKey(key), JSON.stringify(token))
    this.#post({ type: 'set', key, token })
  }

  delete(key: string): void {
    this.#tokens.delete(key)
    this.#persist?.removeItem(this.#storageKey(key))
    this.#post({ type: 'delete', key })
  }

  /**
   * Takes the Web Lock of `key` if no tab holds it, and first collects the other tabs' newest
   * token, so the holder sees what the previous holder stored. The lock ends on `release()`,
   * after `ttlMs`, or when the tab closes.
   */
  acquire(key: string, ttlMs: number): Promise<TokenLock | undefined> {
    return new Promise((resolve, reject) => {
      this.#locks
        .request(this.#lockName(key), { ifAvailable: true }, async (lock) => {
          if (!lock) return resolve(undefined)
          let release = () => {}
          const held = new Promise<void>((done) => {
            release = done
          })
          const timer = setTimeout(release, ttlMs)
          try {
            await this.#sync(key)
          } catch {
            // No answers: the holder goes on with what this tab knows.
          }
          resolve({
            release: () => {
              clearTimeout(timer)
              release()
            },
          })
          await held
        })
        .catch(reject)
    })
  }

  /** Resolves when another tab stored or dropped the token of `key`, or released its lock, or after `timeoutMs`. */
  waitForChange(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const abort = new AbortController()
      const done = () => {
        clearTimeout(timer)
        this.#listeners.delete(listener)
        abort.abort()
        resolve()
      }
      const listener = (message: Message) => {
        if (message.key === key && (message.type === 'set' || message.type === 'delete')) done()
      }
      const timer = setTimeout(done, Math.max(0, timeoutMs))
      this.#listeners.add(listener)
      if (this.#closed) return done()
      // Granted once the holder releases the lock or its tab closes; let go at once.
      this.#locks
        .request(this.#lockName(key), { signal: abort.signal }, () => done())
        .catch(() => {})
    })
  }

  /** Stops listening to the other tabs and wakes this tab's waiters. Tokens in storage stay. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#channel.close()
    for (const listener of [...this.#listeners]) listener({ type: 'delete', key: '' })
    this.#listeners.clear()
  }

  /** Asks the other tabs for their token of `key` and keeps the newest answer. */
  async #sync(key: string): Promise<void> {
    if (this.#closed || this.#syncTimeout === 0) return
    const id = randomId()
    await new Promise<void>((resolve) => {
      const listener = (message: Message) => {
        if (message.type === 'answer' && message.id === id) this.#keep(message.key, message.token)
      }
      this.#listeners.add(listener)
      setTimeout(() => {
        this.#listeners.delete(listener)
        resolve()
      }, this.#syncTimeout)
      this.#post({ type: 'ask', key, id })
    })
  }

  #receive(data: unknown): void {
    const message = parseMessage(data)
    if (message === undefined || this.#closed) return
    if (message.type === 'set') this.#keep(message.key, message.token)
    else if (message.type === 'delete') this.#tokens.delete(message.key)
    else if (message.type === 'ask') {
      const token = this.#tokens.get(message.key)
      if (token !== undefined)
        this.#post({ type: 'answer', key: message.key, id: message.id, token })
    }
    for (const listener of [...this.#listeners]) listener(message)
  }

  /** Keeps `token` unless this tab has a newer one (same grant, same lifetime: expiresAt orders them). */
  #keep(key: string, token: Token): void {
    const current = this.#tokens.get(key)
    if (
      current?.expiresAt !== undefined &&
      token.expiresAt !== undefined &&
      token.expiresAt < current.expiresAt
    ) {
      return
    }
    this.#tokens.set(key, token)
  }

  #post(message: Message): void {
    if (!this.#closed) this.#channel.postMessage(message)
  }

  #fromStorage(key: string): Token | undefined {
    const text = this.#persist?.getItem(this.#storageKey(key))
    if (text === undefined || text === null) return undefined
    try {
      const token = JSON.parse(text) as unknown
      if (isToken(token)) {
        this.#tokens.set(key, token)
        return token
      }
    } catch {
      // Not ours or damaged: treated as no token.
    }
    return undefined
  }

  #lockName(key: string): string {
    return `${this.#name}:refresh:${key}`
  }

  #storageKey(key: string): string {
    return `${this.#name}:token:${key}`
  }
}

/**
 * Creates a {@link BrowserTokenStore}; pass it as `store` to `createTokenManager`, in every
 * tab, with the same `name`.
 * @example
 * import { createTokenManager, refreshToken } from '@oauth-interceptors/core'
 * import { browserTokenStore } from '@oauth-interceptors/browser'
 * const tokens = createTokenManager({ grant: refreshToken({ tokenUrl, clientId, refreshToken: initial }), store: browserTokenStore() })
 */
export function browserTokenStore(options?: BrowserTokenStoreOptions): BrowserTokenStore {
  return new BrowserTokenStore(options)
}

function parseMessage(data: unknown): Message | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const message = data as Partial<Record<string, unknown>>
  if (typeof message.key !== 'string') return undefined
  switch (message.type) {
    case 'set':
      return isToken(message.token) ? (message as Message) : undefined
    case 'answer':
      return isToken(message.token) && typeof message.id === 'string'
        ? (message as Message)
        : undefined
    case 'ask':
      return typeof message.id === 'string' ? (message as Message) : undefined
    case 'delete':
      return message as Message
    default:
      return undefined
  }
}

function isToken(value: unknown): value is Token {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { accessToken?: unknown }).accessToken === 'string' &&
    typeof (value as { tokenType?: unknown }).tokenType === 'string'
  )
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('')
}
