import type { OAuthInterceptorsError } from './errors'
import type { TokenRequest } from './grants/grants'
import type { FetchLike } from './grants/token-endpoint'

/** A value, or a promise of it: store methods and grant callbacks may be sync or async. */
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
  /** The access token itself: a secret, never put in logs or events. */
  readonly accessToken: string
  /** `Bearer` for any casing of bearer; otherwise as the server sent it. */
  readonly tokenType: string
  /** When the token stops being valid, in clock milliseconds; `undefined`: until rejected. */
  readonly expiresAt: number | undefined
  /** When to start refreshing (`expiresAt` minus the capped `refreshSkew`). */
  readonly refreshAt: number | undefined
  /** The refresh token the server sent with it, if any (RFC 6749 §6). */
  readonly refreshToken?: string | undefined
  /** The granted scope, when the server said. */
  readonly scope?: string | undefined
  /** The response body as the server sent it, for provider-specific fields. */
  readonly raw: Readonly<Record<string, unknown>>
  /**
   * For a DPoP token (RFC 9449): the SHA-256 thumbprint (RFC 7638) of the key it is bound to,
   * so that a manager whose key differs never uses it from a shared store.
   */
  readonly jkt?: string | undefined
}

/**
 * A DPoP key (RFC 9449) as a token manager and the request pipeline use it: `dpop()` from
 * `@oauth-interceptors/core/dpop` makes one. It signs proofs and keeps each origin's nonce.
 */
export interface DPoPKey {
  /** Whether the key was given rather than made in this process: only then can processes share its tokens. */
  readonly given: boolean
  /**
   * A new proof for one request: `htm` = `method`, `htu` = `url` without query and fragment,
   * `iat`, a random `jti`, the origin's latest nonce, and `ath` when `accessToken` is given.
   */
  proof(method: string, url: string | URL, accessToken?: string): Promise<string>
  /**
   * Keeps the `DPoP-Nonce` a response from `url` carries, as the nonce of its origin.
   * @returns the nonce now known for that origin, if any
   */
  observe(url: string | URL, headers: { get(name: string): unknown }): string | undefined
  /** The SHA-256 thumbprint (RFC 7638) of the public key: tokens bound to the key name it (`cnf.jkt`). */
  thumbprint(): Promise<string>
  /** The key material as strings, to redact from errors. */
  secrets?(): readonly string[]
  /**
   * How a token manager's token requests prove the key, so that an app without DPoP does not
   * ship it. A `ConfigError` naming `dpop.privateKey` when the tokens are `shared` through a
   * store and the key was made in this process.
   */
  tokenRequests(options: { shared: boolean }): DPoPTokenRequests
}

/** What a token manager's token requests do with a DPoP key (RFC 9449 §5, §8). */
export interface DPoPTokenRequests {
  /** `fetch`, keeping the nonce any answer of the token endpoint carries. */
  fetch(fetch: FetchLike): FetchLike
  /** `request` with a new proof in its `DPoP` header. */
  sign(request: TokenRequest): Promise<TokenRequest>
  /** `token`, with the key's thumbprint (`jkt`) when it is a DPoP token. */
  bind(token: Token): Promise<Token>
  /** Whether to send a failed token request to `url` once more: the server asked for the nonce it sent. */
  retry(failure: OAuthInterceptorsError, url: string): boolean
}

/**
 * Where tokens are kept. The manager always keeps a bounded in-process LRU; a store passed as
 * `store` is consulted behind it, so tokens can be shared between managers, processes or
 * machines: `redisTokenStore()` from `@oauth-interceptors/redis`, or a `TokenStore` of your own
 * wrapped by `sharedStore()` from `@oauth-interceptors/core/store`. Methods may be sync or async.
 * A store that throws never fails a request: the manager reports a `store_error` event and
 * carries on with its in-process state. With user sessions the store holds them: a token with
 * a refresh token must be kept past its access token's expiry (its refresh token still
 * serves), and a key the store no longer has is a session that ended.
 */
export interface TokenStore {
  /** The token kept under `key`, or `undefined`. */
  get(key: string): MaybePromise<Token | undefined>
  /** Keep `token` under `key`; a store may expire it at `token.expiresAt`. */
  set(key: string, token: Token): MaybePromise<void>
  /** Drop the token kept under `key` (after the API rejected it). */
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
  /** Let the next process take the lock; the lock also ends by itself after its TTL. */
  release(): MaybePromise<void>
}

/** Why a token request started. */
export type RefreshReason = 'cold' | 'expiring' | 'rejected'

/** Observability events. None carries a secret; `key` names the client, not its credentials. */
export type TokenEvent =
  | {
      /** The event's name. */
      type: 'token_requested'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** Why the token was needed. */
      reason: RefreshReason
      /** `refresh` when a refresh token is used, `obtain` when the grant runs afresh. */
      via: 'obtain' | 'refresh'
      /** 1 for the first try, 2 for the first retry, and so on. */
      attempt: number
    }
  | {
      /** The event's name. */
      type: 'token_received'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** Why the token was needed. */
      reason: RefreshReason
      /** Lifetime in ms, when known. */
      lifetime: number | undefined
      /** `store` when another manager or process had already refreshed it. */
      source: 'endpoint' | 'store'
    }
  | {
      /** The event's name. */
      type: 'token_retry'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** The attempt that failed (1 for the first). */
      attempt: number
      /** How long the manager waits before the next attempt, in ms. */
      delay: number
      /** Why the attempt failed (transient: 5xx, 408, 429, network, timeout). */
      error: OAuthInterceptorsError
    }
  | {
      /** The event's name. */
      type: 'token_failed'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** Why the token was needed. */
      reason: RefreshReason
      /** The error `getToken()` rejects with. */
      error: OAuthInterceptorsError
    }
  | {
      /** The event's name: the refresh token was refused, so the grant runs afresh. */
      type: 'refresh_fallback'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** The refusal, e.g. `invalid_grant`. */
      error: OAuthInterceptorsError
    }
  | {
      /** The event's name: an API rejected a fresh token too, so for `delay` ms its 401s reach the callers and no new token is asked for. */
      type: 'rejection_backoff'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** Backoffs in a row for this key, since a response last accepted a token. */
      backoffs: number
      /** How long the current token is kept, in ms. */
      delay: number
    }
  | {
      /** The event's name: `revoke()` revoked a key's tokens at the revocation endpoint (RFC 7009). */
      type: 'token_revoked'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** The kinds of token the server accepted to revoke, refresh token first; never the tokens. */
      tokens: readonly ('refresh_token' | 'access_token')[]
    }
  | {
      /** The event's name: revoking one of a key's tokens failed; the token was dropped all the same. */
      type: 'revocation_failed'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** The kind of token that could not be revoked. */
      token: 'refresh_token' | 'access_token'
      /** Why, a `RevocationError`. */
      error: OAuthInterceptorsError
    }
  | {
      /** The event's name. */
      type: 'store_error'
      /** The cache key of the token: client, user and scope, never a credential. */
      key: string
      /** The `TokenStore` method that threw or rejected. */
      operation: 'get' | 'set' | 'delete' | 'acquire' | 'release' | 'waitForChange'
      /** What the store threw. */
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
  /** `getToken()` calls that ended in an error after every attempt. */
  failed: number
  /** Token requests sent again after a transient failure. */
  retried: number
  /** Tokens taken from the shared store instead of the endpoint. */
  fromStore: number
  /** Times an API that rejects fresh tokens too made the manager stop asking for new ones for a while. */
  rejectionBackoffs: number
  /** Tokens (access and refresh) the revocation endpoint accepted to revoke. */
  revoked: number
  /** Tokens whose revocation failed (each was dropped all the same). */
  revocationsFailed: number
  /** Token requests started, by why the token was needed. */
  reasons: Record<RefreshReason, number>
}
