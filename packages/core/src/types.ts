import type { OAuthInterceptorsError } from './errors'

export type MaybePromise<T> = T | Promise<T>

/**
 * The timers a manager schedules with: the retry backoff and the token-request timeout.
 * Inject fakes in tests, or a runtime's own scheduler. Called as methods of this object.
 */
export interface Timers {
  /** Calls `callback` once, `ms` from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown
  /** Cancels a timer `setTimeout` returned, unless it has fired. */
  clearTimeout(handle: unknown): void
}

/** A token as `getToken()` returns it and a `TokenStore` keeps it. Plain JSON data. */
export interface Token {
  readonly accessToken: string
  /** `Bearer` for any casing of bearer; otherwise as the server sent it. */
  readonly tokenType: string
  /** When the token stops being valid, in clock milliseconds; `undefined`: until rejected. */
  readonly expiresAt: number | undefined
  /** When to start refreshing (`expiresAt` minus the capped `refreshSkew`). */
  readonly refreshAt: number | undefined
  readonly refreshToken?: string | undefined
  /** The granted scope, when the server said. */
  readonly scope?: string | undefined
  /** The response body as the server sent it, for provider-specific fields. */
  readonly raw: Readonly<Record<string, unknown>>
}

/**
 * Where tokens are kept. The manager always keeps a bounded in-process LRU; a `TokenStore`
 * passed as `store` is consulted behind it, so tokens can be shared between managers,
 * processes or machines (see `@oauth-interceptors/redis`). Methods may be sync or async.
 * A store that throws never fails a request: the manager reports a `store_error` event and
 * carries on with its in-process state.
 */
export interface TokenStore {
  get(key: string): MaybePromise<Token | undefined>
  /** Keep `token` under `key`; a store may expire it at `token.expiresAt`. */
  set(key: string, token: Token): MaybePromise<void>
  delete(key: string): MaybePromise<void>
  /**
   * Optional cross-process single flight: take the refresh lock of `key` for at most
   * `ttlMs`. Resolves a lock when taken, `undefined` when another holder has it.
   */
  acquire?(key: string, ttlMs: number): MaybePromise<TokenLock | undefined>
  /**
   * Optional, with `acquire`: resolves when the entry of `key` may have changed (the holder
   * stored a token or released its lock) or after `timeoutMs`, whichever comes first.
   */
  waitForChange?(key: string, timeoutMs: number): Promise<void>
}

/** A held refresh lock; release it only once. */
export interface TokenLock {
  release(): MaybePromise<void>
}

/** Why a token request started. */
export type RefreshReason = 'cold' | 'expiring' | 'rejected'

/** Observability events. None carries a secret; `key` names the client, not its credentials. */
export type TokenEvent =
  | {
      type: 'token_requested'
      key: string
      reason: RefreshReason
      /** `refresh` when a refresh token is used, `obtain` when the grant runs afresh. */
      via: 'obtain' | 'refresh'
      attempt: number
    }
  | {
      type: 'token_received'
      key: string
      reason: RefreshReason
      /** Lifetime in ms, when known. */
      lifetime: number | undefined
      /** `store` when another manager or process had already refreshed it. */
      source: 'endpoint' | 'store'
    }
  | {
      type: 'token_retry'
      key: string
      attempt: number
      delay: number
      error: OAuthInterceptorsError
    }
  | { type: 'token_failed'; key: string; reason: RefreshReason; error: OAuthInterceptorsError }
  | { type: 'refresh_fallback'; key: string; error: OAuthInterceptorsError }
  | {
      /** An API rejected a fresh token too: for `delay` ms its 401s reach the callers, no new token is asked for. */
      type: 'rejection_backoff'
      key: string
      /** Backoffs in a row for this key, since a response last accepted a token. */
      backoffs: number
      delay: number
    }
  | {
      type: 'store_error'
      key: string
      operation: 'get' | 'set' | 'delete' | 'acquire' | 'release' | 'waitForChange'
      error: unknown
    }

/** Counters since the manager was created. */
export interface TokenStats {
  /** `getToken()` calls answered from memory without waiting. */
  cacheHits: number
  /** HTTP requests sent to the token endpoint (retries included). */
  requested: number
  /** Tokens obtained, by reason. */
  received: number
  failed: number
  retried: number
  /** Tokens taken from the shared store instead of the endpoint. */
  fromStore: number
  /** Times an API that rejects fresh tokens too made the manager stop asking for new ones for a while. */
  rejectionBackoffs: number
  reasons: Record<RefreshReason, number>
}
