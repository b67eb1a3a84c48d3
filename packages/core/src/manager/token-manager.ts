import pMemoize from 'p-memoize'
import {
  ConfigError,
  isOAuthInterceptorsError,
  type OAuthInterceptorsError,
  TokenEndpointError,
} from '../errors'
import {
  customGrantError,
  type Grant,
  type ResolvedParams,
  resolveParams,
  type TokenParams,
  type TokenRequest,
} from '../grants/grants'
import { lifetimeFromJwt } from '../grants/jwt'
import {
  type FetchLike,
  postTokenRequest,
  type RetryOptions,
  retryDelay,
} from '../grants/token-endpoint'
import type { RefreshReason, Token, TokenEvent, TokenLock, TokenStats, TokenStore } from '../types'
import { optionalDuration } from '../validate'
import { LruMap } from './memory-store'

export interface TokenManagerOptions {
  /** How tokens are obtained: `clientCredentials(…)`, `passwordGrant(…)`, `refreshTokenGrant(…)`, `customGrant(…)`. */
  grant: Grant
  /** Refresh this many ms before expiry; never more than half the token's lifetime. @default 60_000 */
  refreshSkew?: number | undefined
  /**
   * Lifetime in ms of a token whose response has no `expires_in` and which is not a JWT with
   * `exp`. Leave it out to keep such a token until a resource server rejects it (a 401).
   * @default undefined
   */
  defaultLifetime?: number | undefined
  /** A shared store behind the in-process cache, e.g. Redis for a fleet. @default none */
  store?: TokenStore | undefined
  /** How many tokens (distinct scope/audience/resource sets) to keep in process. @default 100 */
  cacheSize?: number | undefined
  /** The fetch used for token requests. @default globalThis.fetch */
  fetch?: FetchLike | undefined
  /** Clock in ms; must not jump backwards. @default performance.timeOrigin + performance.now() */
  now?: (() => number) | undefined
  /** Time limit of one token request in ms. @default 10_000 */
  timeout?: number | undefined
  /** Retries of transient failures (5xx, 429, network, timeout); `false` for none. @default { retries: 2, minDelay: 200, maxDelay: 10_000 } */
  retry?: RetryOptions | false | undefined
  /** Token types accepted, any case (RFC 6749 §7.1). A response without `token_type` counts as Bearer. @default ['Bearer'] */
  tokenTypes?: readonly string[] | undefined
  /** How long a cross-process refresh lock (see `TokenStore.acquire`) may be held in ms. @default 30_000 */
  lockTtl?: number | undefined
  /** Observability hook; its exceptions are ignored. Events never carry secrets. */
  onEvent?: ((event: TokenEvent) => void) | undefined
}

/** Per-call options of {@link TokenManager.getToken}. */
export interface GetTokenOptions extends TokenParams {
  /** Stops waiting for this call only; a shared token request goes on for the others. */
  signal?: AbortSignal | undefined
}

interface Entry {
  token: Token
  /** A settled promise of `token`, so cache hits allocate nothing. */
  promise: Promise<Token>
  /** When to refresh; pushed back after a failed early refresh. */
  refreshAt: number | undefined
  rejected: boolean
}

type StoreOperation = Extract<TokenEvent, { type: 'store_error' }>['operation']

const defaultClock = () => performance.timeOrigin + performance.now()
const STORE_FAILED = Symbol('store failed')

/**
 * Holds tokens for one grant: caches them, refreshes before expiry and on rejection, with one
 * token request per cache key at a time however many callers wait.
 * @example
 * const tokens = createTokenManager({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }) })
 * const { accessToken } = await tokens.getToken()
 */
export class TokenManager {
  readonly #grant: Grant
  readonly #store: TokenStore | undefined
  readonly #memory: LruMap<Entry>
  /** Which key holds a token, so `invalidate()` needs no scan. */
  readonly #keyByToken = new Map<string, string>()
  /** Per-call params and their cache key, by a cheap signature of the call's options. */
  readonly #paramKeys: LruMap<{ params: ResolvedParams; key: string }>
  readonly #fetch: FetchLike
  readonly #now: () => number
  readonly #skew: number
  readonly #defaultLifetime: number | undefined
  readonly #timeout: number
  readonly #retry: RetryOptions | false
  readonly #tokenTypes: ReadonlySet<string>
  readonly #lockTtl: number
  readonly #onEvent: ((event: TokenEvent) => void) | undefined
  readonly #defaultKey: string
  readonly #tokenUrls: Set<string>
  /** Keys whose server asked for a pause (`Retry-After`) longer than our retries wait. */
  readonly #cooldowns = new Map<string, { until: number; error: OAuthInterceptorsError }>()
  readonly #stats: TokenStats = {
    cacheHits: 0,
    requested: 0,
    received: 0,
    failed: 0,
    retried: 0,
    fromStore: 0,
    reasons: { cold: 0, expiring: 0, rejected: 0 },
  }
  /** One in-flight refresh per key (p-memoize with `cache: false` only shares pending promises). */
  readonly #flight: (key: string, reason: RefreshReason, params: ResolvedParams) => Promise<Token>

  constructor(options: TokenManagerOptions) {
    const grant = options?.grant
    if (!grant || typeof grant.obtain !== 'function') {
      throw new ConfigError(
        'grant',
        'it is missing',
        'Pass grant: clientCredentials({ tokenUrl, clientId, clientSecret }) or another grant.',
      )
    }
    for (const name of ['fetch', 'now', 'onEvent'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw new ConfigError(
          name,
          'expected a function',
          `Pass a function as ${name}, or leave it out.`,
        )
      }
    }
    if (options.retry !== undefined && options.retry !== false) {
      const { retries } = options.retry
      if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
        throw new ConfigError(
          'retry.retries',
          `expected an integer ≥ 0, got ${String(retries)}`,
          'Pass e.g. retry: { retries: 2 }, or retry: false.',
        )
      }
      optionalDuration('retry.minDelay', options.retry.minDelay, { allowZero: true })
      optionalDuration('retry.maxDelay', options.retry.maxDelay, { allowZero: true })
    }
    const fetchFn = options.fetch ?? globalThis.fetch
    if (typeof fetchFn !== 'function') {
      throw new ConfigError(
        'fetch',
        'there is no global fetch here',
        'Pass fetch: a function with the signature of fetch.',
      )
    }
    if (options.store !== undefined) {
      const store = options.store as Partial<TokenStore> | null
      if (!store || typeof store.get !== 'function' || typeof store.set !== 'function') {
        throw new ConfigError(
          'store',
          'expected a TokenStore with get, set and delete',
          'Pass a store such as redisTokenStore({ client }), or leave it out.',
        )
      }
      if (grant.identity === undefined) {
        throw new ConfigError(
          'identity',
          `a ${grant.type} grant without identity cannot share tokens through a store: tokens of different users would mix`,
          'Pass identity: [username] to customGrant() (or [] when every token it gets is interchangeable).',
        )
      }
    }
    if (
      options.tokenTypes !== undefined &&
      (!Array.isArray(options.tokenTypes) ||
        !options.tokenTypes.every((type) => typeof type === 'string'))
    ) {
      throw new ConfigError(
        'tokenTypes',
        'expected a list of token type names',
        "Pass e.g. tokenTypes: ['Bearer', 'DPoP'].",
      )
    }
    this.#grant = grant
    this.#store = options.store
    this.#memory = new LruMap<Entry>(options.cacheSize ?? 100, 'cacheSize', (_key, entry) =>
      this.#keyByToken.delete(entry.token.accessToken),
    )
    this.#paramKeys = new LruMap(options.cacheSize ?? 100, 'cacheSize')
    this.#fetch = fetchFn
    this.#now = options.now ?? defaultClock
    this.#skew = optionalDuration('refreshSkew', options.refreshSkew, { allowZero: true }) ?? 60_000
    this.#defaultLifetime = optionalDuration('defaultLifetime', options.defaultLifetime, {
      allowZero: false,
    })
    this.#timeout = optionalDuration('timeout', options.timeout, { allowZero: false }) ?? 10_000
    this.#lockTtl = optionalDuration('lockTtl', options.lockTtl, { allowZero: false }) ?? 30_000
    this.#retry = options.retry ?? {}
    this.#tokenTypes = new Set((options.tokenTypes ?? ['Bearer']).map((type) => type.toLowerCase()))
    this.#onEvent = options.onEvent
    this.#defaultKey = this.#keyOf(grant.params)
    this.#tokenUrls = new Set([withoutQuery(grant.tokenUrl)])
    this.#flight = pMemoize(
      (key: string, reason: RefreshReason, params: ResolvedParams) =>
        this.#refresh(key, reason, params),
      { cache: false },
    )
  }

  /**
   * A valid token: from memory when fresh, else from one shared token request.
   * Scope, audience and resource may differ per call; each set is cached on its own.
   */
  getToken(options?: GetTokenOptions): Promise<Token> {
    let key = this.#defaultKey
    let params = this.#grant.params
    if (
      options &&
      (options.scope !== undefined ||
        options.audience !== undefined ||
        options.resource !== undefined)
    ) {
      const signature = `${part(options.scope)}\n${part(options.audience)}\n${part(options.resource)}`
      let resolved = this.#paramKeys.get(signature)
      if (resolved === undefined) {
        const callParams = resolveParams(options, params)
        resolved = { params: callParams, key: this.#keyOf(callParams) }
        this.#paramKeys.set(signature, resolved)
      }
      params = resolved.params
      key = resolved.key
    }
    const entry = this.#memory.get(key)
    if (
      entry !== undefined &&
      !entry.rejected &&
      (entry.refreshAt === undefined || this.#now() < entry.refreshAt)
    ) {
      this.#stats.cacheHits++
      return entry.promise
    }
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason)
    const reason: RefreshReason =
      entry === undefined ? 'cold' : entry.rejected ? 'rejected' : 'expiring'
    const flight = this.#flight(key, reason, params)
    return options?.signal ? abortable(flight, options.signal) : flight
  }

  /**
   * A resource server rejected `accessToken` (a 401). Only if it is still the current token is
   * it dropped, so the next `getToken()` refreshes; a token already replaced changes nothing
   * (the stale-401 rule). Returns whether the token was current.
   */
  invalidate(accessToken: string): boolean {
    const key = this.#keyByToken.get(accessToken)
    const entry = key === undefined ? undefined : this.#memory.get(key)
    if (entry === undefined || entry.token.accessToken !== accessToken || entry.rejected)
      return false
    entry.rejected = true
    return true
  }

  /** Whether `url` is one of this manager's token endpoints (adapters never add a token to it). */
  isTokenEndpoint(url: string): boolean {
    return this.#tokenUrls.has(withoutQuery(url))
  }

  /** Counters since creation, for metrics. */
  stats(): TokenStats {
    return { ...this.#stats, reasons: { ...this.#stats.reasons } }
  }

  /** No secrets here: what `console.log(manager)` and `JSON.stringify` show. */
  toJSON(): Record<string, unknown> {
    return { grant: this.#grant.type, tokenUrl: this.#grant.tokenUrl, stats: this.stats() }
  }

  #keyOf(params: ResolvedParams): string {
    const grant = this.#grant
    return JSON.stringify([
      grant.type,
      grant.tokenUrl,
      ...(grant.identity ?? []),
      params.scope ?? '',
      params.audience ?? '',
      ...[...params.resource].sort(),
    ])
  }

  async #refresh(key: string, reason: RefreshReason, params: ResolvedParams): Promise<Token> {
    const entry = this.#memory.get(key)
    const cooldown = this.#cooldowns.get(key)
    let failure: OAuthInterceptorsError
    if (cooldown !== undefined && this.#now() < cooldown.until) {
      // The server asked us to wait (Retry-After beyond our retries): don't ask again yet.
      failure = cooldown.error
    } else {
      try {
        const token = await this.#obtain(key, reason, params, entry)
        this.#cooldowns.delete(key)
        return token
      } catch (error) {
        failure = asLibraryError(error)
        this.#stats.failed++
        this.#emit({ type: 'token_failed', key, reason, error: failure })
        const wait = failure.retryAfter
        if (wait !== undefined)
          this.#cooldowns.set(key, { until: this.#now() + wait, error: failure })
      }
    }
    // A token in its early-refresh window is still valid, unless a resource server rejected it
    // meanwhile: serve it and try again a bit later.
    const now = this.#now()
    if (
      reason === 'expiring' &&
      entry !== undefined &&
      !entry.rejected &&
      entry.token.expiresAt !== undefined &&
      now < entry.token.expiresAt
    ) {
      entry.refreshAt = now + Math.min((entry.token.expiresAt - now) / 2, 5_000)
      return entry.token
    }
    throw failure
  }

  async #obtain(
    key: string,
    reason: RefreshReason,
    params: ResolvedParams,
    entry: Entry | undefined,
  ): Promise<Token> {
    const rejected = entry?.rejected ? entry.token.accessToken : undefined
    const store = this.#store
    if (!store) return this.#save(key, await this.#request(key, reason, params, entry?.token))

    // A fleet: another manager or process may already have a newer token.
    let shared = await this.#storeCall(key, 'get', () => store.get(key))
    if (this.#usable(shared, rejected, entry?.token))
      return this.#accept(key, shared as Token, reason)
    if (store.acquire) {
      const deadline = this.#now() + 2 * this.#lockTtl
      for (;;) {
        const lock: TokenLock | undefined | typeof STORE_FAILED = await this.#storeCall(
          key,
          'acquire',
          () => store.acquire?.(key, this.#lockTtl),
        )
        if (lock === STORE_FAILED) break
        if (lock) {
          try {
            shared = await this.#storeCall(key, 'get', () => store.get(key))
            if (this.#usable(shared, rejected, entry?.token))
              return this.#accept(key, shared as Token, reason)
            const previous = shared && shared !== STORE_FAILED ? shared : entry?.token
            return await this.#save(key, await this.#request(key, reason, params, previous))
          } finally {
            await this.#storeCall(key, 'release', () => lock.release())
          }
        }
        const remaining = deadline - this.#now()
        if (remaining <= 0) break
        const waited = await this.#storeCall(key, 'waitForChange', () =>
          store.waitForChange?.(key, remaining),
        )
        if (waited === STORE_FAILED) break
        shared = await this.#storeCall(key, 'get', () => store.get(key))
        if (this.#usable(shared, rejected, entry?.token))
          return this.#accept(key, shared as Token, reason)
      }
    }
    return this.#save(key, await this.#request(key, reason, params, entry?.token))
  }

  #usable(
    token: Token | undefined | typeof STORE_FAILED,
    rejected: string | undefined,
    replacing?: Token,
  ): boolean {
    return (
      token !== undefined &&
      token !== STORE_FAILED &&
      token.accessToken !== rejected &&
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

  /** Runs a store operation; a failing store is reported and never fails the caller. */
  async #storeCall<T>(
    key: string,
    operation: StoreOperation,
    run: () => T | Promise<T>,
  ): Promise<T | typeof STORE_FAILED> {
    try {
      return await run()
    } catch (error) {
      this.#emit({ type: 'store_error', key, operation, error })
      return STORE_FAILED
    }
  }

  #accept(key: string, token: Token, reason: RefreshReason): Token {
    this.#remember(key, token)
    this.#stats.fromStore++
    this.#emit({
      type: 'token_received',
      key,
      reason,
      lifetime: lifetimeOf(token, this.#now()),
      source: 'store',
    })
    return token
  }

  async #save(key: string, token: Token): Promise<Token> {
    this.#remember(key, token)
    const store = this.#store
    if (store) await this.#storeCall(key, 'set', () => store.set(key, token))
    return token
  }

  #remember(key: string, token: Token): void {
    const previous = this.#memory.get(key)
    if (previous) this.#keyByToken.delete(previous.token.accessToken)
    this.#keyByToken.set(token.accessToken, key)
    this.#memory.set(key, {
      token,
      promise: Promise.resolve(token),
      refreshAt: token.refreshAt,
      rejected: false,
    })
  }

  /** Uses the refresh token when there is one, logging in again if that fails and the grant allows. */
  async #request(
    key: string,
    reason: RefreshReason,
    params: ResolvedParams,
    previous: Token | undefined,
  ): Promise<Token> {
    const grant = this.#grant
    const refreshToken = previous?.refreshToken
    if (refreshToken !== undefined && grant.refresh) {
      try {
        return await this.#send(
          key,
          reason,
          'refresh',
          () => grant.refresh?.(refreshToken, params) as Promise<TokenRequest>,
          refreshToken,
        )
      } catch (error) {
        if (!grant.reobtainAfterRefreshFailure) throw error
        this.#emit({ type: 'refresh_fallback', key, error: asLibraryError(error) })
      }
    }
    return this.#send(key, reason, 'obtain', () => grant.obtain(params), undefined)
  }

  async #send(
    key: string,
    reason: RefreshReason,
    via: 'obtain' | 'refresh',
    build: () => TokenRequest | Promise<TokenRequest>,
    usedRefreshToken: string | undefined,
  ): Promise<Token> {
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.#now()
      this.#stats.requested++
      this.#emit({ type: 'token_requested', key, reason, via, attempt })
      try {
        const request = await build()
        this.#tokenUrls.add(withoutQuery(request.url))
        const body = await postTokenRequest(this.#fetch, request, this.#timeout)
        const token = this.#toToken(body, startedAt, usedRefreshToken)
        this.#stats.received++
        this.#stats.reasons[reason]++
        this.#emit({
          type: 'token_received',
          key,
          reason,
          lifetime: lifetimeOf(token, startedAt),
          source: 'endpoint',
        })
        return token
      } catch (error) {
        const failure = asLibraryError(error)
        const delay = this.#retry === false ? undefined : retryDelay(failure, attempt, this.#retry)
        if (delay === undefined) throw failure
        this.#stats.retried++
        this.#emit({ type: 'token_retry', key, attempt, delay, error: failure })
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  #toToken(
    body: Record<string, unknown>,
    startedAt: number,
    usedRefreshToken: string | undefined,
  ): Token {
    let parsed: ReturnType<Grant['parse']>
    try {
      parsed = this.#grant.parse(body)
    } catch (cause) {
      throw isOAuthInterceptorsError(cause)
        ? cause
        : customGrantError("The grant's parse() failed", cause)
    }
    const accessToken = parsed?.accessToken
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new TokenEndpointError('The token response has no access_token', 'invalid_response')
    }
    const tokenType =
      parsed.tokenType === undefined || /^bearer$/i.test(parsed.tokenType)
        ? 'Bearer'
        : parsed.tokenType
    if (!this.#tokenTypes.has(tokenType.toLowerCase())) {
      throw new TokenEndpointError(
        `The token endpoint issued a "${tokenType}" token; accept it with the tokenTypes option if your API understands it`,
        'unsupported_token_type',
      )
    }
    const lifetime =
      seconds(parsed.expiresIn) ?? lifetimeFromJwt(accessToken) ?? this.#defaultLifetime
    const expiresAt = lifetime === undefined ? undefined : startedAt + lifetime
    return {
      accessToken,
      tokenType,
      expiresAt,
      refreshAt:
        lifetime === undefined
          ? undefined
          : startedAt + lifetime - Math.min(this.#skew, lifetime / 2),
      // RFC 6749 §6: a refresh response without a refresh token keeps the old one.
      refreshToken: parsed.refreshToken ?? usedRefreshToken,
      scope: parsed.scope,
      raw: body,
    }
  }

  #emit(event: TokenEvent): void {
    if (!this.#onEvent) return
    try {
      this.#onEvent(event)
    } catch {
      // A broken listener must not break token handling.
    }
  }
}

/** Creates a {@link TokenManager}. */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  return new TokenManager(options)
}

/** `expires_in` in ms; numeric strings accepted, anything else (NaN, ≤ 0) means unknown. */
function seconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) && number > 0
    ? number * 1000
    : undefined
}

/** One part of a call's params signature; `\u0001` marks "not given" (a scope may be ''). */
function part(value: string | readonly string[] | undefined): string {
  return value === undefined ? '\u0001' : typeof value === 'string' ? value : value.join(' ')
}

function lifetimeOf(token: Token, from: number): number | undefined {
  return token.expiresAt === undefined ? undefined : token.expiresAt - from
}

function withoutQuery(url: string): string {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/** The library's errors pass; anything else came from a grant's own code (a hand-written `Grant`). */
function asLibraryError(error: unknown): OAuthInterceptorsError {
  if (isOAuthInterceptorsError(error)) return error
  return customGrantError('Building the token request failed in the grant', error)
}

/** `promise`, or a rejection with the signal's reason once `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
