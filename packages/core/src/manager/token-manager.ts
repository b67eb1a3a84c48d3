import pMemoize from 'p-memoize'
import {
  ConfigError,
  isOAuthInterceptorsError,
  OAuthInterceptorsError,
  TokenEndpointError,
} from '../errors'
import {
  customGrantError,
  type DiscoveryContext,
  type Grant,
  type ManagerHost,
  type ResolvedParams,
  type RevocationMethods,
  type RevocationSupport,
  resolveParams,
  type SessionMethods,
  type SubjectTokenMethods,
  type TokenParams,
  type TokenRequest,
} from '../grants/grants'
import { type FetchLike, postTokenRequest } from '../grants/token-endpoint'
import { lazyRedactor, redactValue } from '../redact'
import type { DPoPKey, RefreshReason, Timers, Token, TokenEvent, TokenStats } from '../types'
import { EndpointSet } from '../url'
import { type ManagerSettings, validateManagerOptions } from '../validate'
import { abortable } from './abortable'
import { earlyRefreshRetryAt, lifetimeFrom } from './expiry'
import { LruMap } from './memory-store'
import { backoff, Cooldowns, type RetryOptions, retryDelay } from './retry'
import type { SharedTokenStore, StoreSharing } from './store-protocol'
import { toToken } from './token-response'

/** Options of {@link createTokenManager}; every one but `grant` may be left out. */
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
  /**
   * A shared store behind the in-process cache, e.g. `redisTokenStore({ client })` for a fleet;
   * a `TokenStore` of your own wrapped by `sharedStore()` from `@oauth-interceptors/core/store`.
   * @default none
   */
  store?: SharedTokenStore | undefined
  /** How many tokens (distinct scope/audience/resource sets) to keep in process. @default 100 */
  cacheSize?: number | undefined
  /**
   * The fetch used for token, revocation and metadata requests; a grant whose client
   * authentication brings its own transport (an mTLS method's) sends its token and revocation
   * requests through that instead.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined
  /** Clock in ms; must not jump backwards. @default performance.timeOrigin + performance.now() */
  now?: (() => number) | undefined
  /** Time limit of one token request in ms, and of a user session's read from the `store`. @default 10_000 */
  timeout?: number | undefined
  /** Retries of transient failures (5xx, 408, 429, network, timeout); `false` for none. @default { retries: 2, minDelay: 200, maxDelay: 10_000 } */
  retry?: RetryOptions | false | undefined
  /** Token types accepted, any case (RFC 6749 §7.1). A response without `token_type` counts as Bearer. @default ['Bearer'] */
  tokenTypes?: readonly string[] | undefined
  /**
   * Time limit in ms of one `getToken()` across all its attempts and backoff waits; when it
   * would pass, the caller gets a `TokenEndpointError` with code `timeout`.
   * @default 30_000
   */
  deadline?: number | undefined
  /**
   * Longest `Retry-After` honoured in ms: a server asking for longer pauses this cache key
   * only this long before the next token request.
   * @default 60_000
   */
  maxRetryAfter?: number | undefined
  /** How long a cross-process refresh lock (see `TokenStore.acquire`) may be held in ms. @default 30_000 */
  lockTtl?: number | undefined
  /**
   * The timers of the retry backoff and of the token-request `timeout`; inject fakes in tests.
   * Its functions are called as methods of this object, so pass bound ones.
   * @default the global setTimeout and clearTimeout, looked up at each call (fake timers installed later apply)
   */
  timers?: Timers | undefined
  /**
   * Numbers in [0, 1) for the retry jitter; a constant gives predictable backoff delays.
   * @default Math.random
   */
  random?: (() => number) | undefined
  /** Observability hook; its exceptions are ignored. Events never carry secrets. @default none */
  onEvent?: ((event: TokenEvent) => void) | undefined
  /**
   * Sender-constrained tokens (RFC 9449): `dpop()` from `@oauth-interceptors/core/dpop`. Every
   * token request then carries a DPoP proof, `DPoP` tokens are accepted, and adapters send
   * them as `Authorization: DPoP …` with a proof of their own; a `use_dpop_nonce` answer is
   * retried once with the server's nonce. With a `store`, give the key (`dpop({ privateKey })`),
   * so that every process proves the same one.
   * @default none: Bearer tokens
   */
  dpop?: DPoPKey | undefined
  /**
   * With a `userTokens()` grant and no `store`: how many sessions an in-memory store keeps
   * behind the `cacheSize` most recently used (the least recently used go first; their users
   * log in again). With a `store`, the store holds them all.
   * @default 10_000
   */
  maxSessions?: number | undefined
  /**
   * Token revocation (RFC 7009): `revocation()` from `@oauth-interceptors/core/revocation`, for
   * `revoke()`, `close({ revoke: true })` and `endSession(id, { revoke: true })`. The grant needs
   * a revocation endpoint: `revocationUrl`, or an `issuer` whose metadata names one.
   * @default none: revoking is a `ConfigError`
   */
  revocation?: RevocationSupport | undefined
}

/**
 * What shapes one call's token beyond the grant: its params and, with a token exchange grant,
 * the subject token. Adapters take it per request as `tokenOptions`.
 */
export interface TokenOptions extends TokenParams {
  /**
   * With a `tokenExchange()` grant: the token to exchange (RFC 8693 §2.1 `subject_token`), e.g.
   * the user's access token a request to your service came with. Each is cached on its own,
   * keyed by its SHA-256; a manager of another grant rejects it with a `ConfigError`.
   * @default none (required by a token exchange grant)
   */
  subjectToken?: string | undefined
  /** The subject token's type URI. @default the grant's `subjectTokenType` */
  subjectTokenType?: string | undefined
  /**
   * When the subject token expires, for a subject token that is not a JWT with `exp` (which is
   * read): a token exchanged for it is not used past it, and once it has passed, `getToken()`
   * rejects with code `subject_token_expired` instead of asking the server.
   * @default the JWT's `exp`, else unknown
   */
  subjectTokenExpiresAt?: number | Date | undefined
  /**
   * With a `userTokens()` grant: the id of the user session whose token to use, as given to
   * `setSession()`. Keys, events and a shared store hold its SHA-256, never the id itself.
   * @default none (required by a user-session grant)
   */
  session?: string | undefined
}

/** Per-call options of {@link TokenManager.getToken}. */
export interface GetTokenOptions extends TokenOptions {
  /** Stops waiting for this call only; a shared token request goes on for the others. */
  signal?: AbortSignal | undefined
}

/**
 * Options of {@link TokenManager.revoke}. With no scope, audience or resource, every token the
 * manager holds is revoked; with any of them, only the tokens `getToken()` with the same
 * options returns.
 */
export type RevokeOptions = TokenParams

/** What {@link TokenManager.revoke} revoked. */
export interface RevokeResult {
  /** Access tokens the revocation endpoint accepted (200). */
  accessTokens: number
  /** Refresh tokens the revocation endpoint accepted (200). */
  refreshTokens: number
}

/** Options of {@link TokenManager.close}. */
export interface CloseOptions {
  /**
   * Revoke every token the manager holds first (see {@link TokenManager.revoke}); needs the
   * manager's `revocation` option, else the manager closes and then rejects with a `ConfigError`.
   * @default false
   */
  revoke?: boolean | undefined
}

/** Options of {@link TokenManager.endSession}. */
export interface EndSessionOptions {
  /**
   * Revoke the session's refresh and access token at the revocation endpoint first (RFC 7009);
   * needs the manager's `revocation` option, else the session ends and then the call rejects with
   * a `ConfigError`.
   * @default false
   */
  revoke?: boolean | undefined
}

/** The rejection backoff (see `TokenManager.reject`): the first wait and the longest, in ms. */
const REJECTION_BACKOFF = { first: 1_000, max: 60_000 }

/** A key's run of rejected tokens, until a response accepts one. */
interface Rejections {
  /** Backoffs so far in this run; each waits twice as long as the one before. */
  backoffs: number
  /** While `now()` is before this, rejected tokens are kept (the 401 reaches the caller). */
  until: number
  /** The current token replaced a rejected one: if it is rejected too, back off. */
  replaced: boolean
}

interface Entry {
  token: Token
  /** A settled promise of `token`, so cache hits allocate nothing. */
  promise: Promise<Token>
  /** When to refresh; pushed back after a failed early refresh. */
  refreshAt: number | undefined
  rejected: boolean
}

/**
 * Holds tokens for one grant: caches them, refreshes before expiry and on rejection, with one
 * token request per cache key at a time however many callers wait.
 * @example
 * const tokens = createTokenManager({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }) })
 * const { accessToken } = await tokens.getToken()
 */
export class TokenManager {
  readonly #settings: ManagerSettings
  /** The settings of token requests: with DPoP, a fetch that keeps the endpoint's nonce. */
  readonly #tokenSettings: ManagerSettings
  readonly #grant: Grant
  readonly #now: () => number
  readonly #memory: LruMap<Entry>
  /** Which key holds a token, so `invalidate()` needs no scan. */
  readonly #keyByToken = new Map<string, string>()
  /** Per-call params and their cache key, by a cheap signature of the call's options. */
  readonly #paramKeys: LruMap<{ params: ResolvedParams; key: string }>
  /** With a token exchange grant: its subject-token calls (`getToken({ subjectToken })`). */
  readonly #subjects: SubjectTokenMethods | undefined
  /** With a user-session grant: its session calls (`setSession()`, `getToken({ session })`, …). */
  readonly #sessions: SessionMethods | undefined
  readonly #shared: StoreSharing | undefined
  readonly #cooldowns: Cooldowns
  readonly #defaultKey: string
  readonly #tokenUrls = new EndpointSet()
  /** Lent to the grant: discovery fetches its metadata once per manager, with these. */
  readonly #context: DiscoveryContext
  readonly #stats: TokenStats = {
    cacheHits: 0,
    requested: 0,
    received: 0,
    failed: 0,
    retried: 0,
    fromStore: 0,
    rejectionBackoffs: 0,
    revoked: 0,
    revocationsFailed: 0,
    reasons: { cold: 0, expiring: 0, rejected: 0 },
  }
  /** Keys whose tokens the API keeps rejecting (see {@link reject}); none in the common case. */
  readonly #rejections = new Map<string, Rejections>()
  /** Token requests under way, by key: `close()` waits for them before revoking, `endSession()` for its own. */
  readonly #inFlight = new Map<Promise<Token>, string>()
  /** With the `revocation` option: its revocation calls. */
  readonly #revocation: RevocationMethods | undefined
  /** Listeners added with `subscribe()`, called after `onEvent`. */
  readonly #listeners = new Set<(event: TokenEvent) => void>()
  /** Set by `close()`: `getToken()` then rejects. */
  #closed = false
  /** One in-flight refresh per key (p-memoize with `cache: false` only shares pending promises). */
  readonly #flight: (key: string, reason: RefreshReason, params: ResolvedParams) => Promise<Token>

  constructor(options: TokenManagerOptions) {
    const given = validateManagerOptions(options)
    // An mTLS grant's token and revocation requests go through the transport that presents
    // its certificate; the metadata request keeps the manager's fetch.
    const transport = given.grant.fetch
    const settings = transport ? { ...given, fetch: transport } : given
    this.#settings = settings
    this.#grant = settings.grant
    this.#now = settings.now
    const dpop = settings.dpopRequests
    this.#tokenSettings = dpop ? { ...settings, fetch: dpop.fetch(settings.fetch) } : settings
    this.#context = {
      fetch: given.fetch,
      now: settings.now,
      timers: settings.timers,
      timeout: settings.timeout,
    }
    this.#memory = new LruMap<Entry>(settings.cacheSize, 'cacheSize', (_key, entry) =>
      this.#keyByToken.delete(entry.token.accessToken),
    )
    this.#paramKeys = new LruMap(settings.cacheSize, 'cacheSize')
    const sessions = this.#grant.sessions
    // Sessions outnumber the cache: the rest wait in a store, in memory unless one is given.
    const store = settings.store ?? sessions?.store(settings.maxSessions)
    this.#shared = store?.share({
      lockTtl: settings.lockTtl,
      now: settings.now,
      onError: (key, operation, error) =>
        this.#emit({
          type: 'store_error',
          key,
          operation,
          error: redactValue(error, lazyRedactor(this.#knownSecrets)),
        }),
    })
    this.#cooldowns = new Cooldowns(settings.now, settings.maxRetryAfter)
    this.#defaultKey = this.#keyOf(this.#grant.params)
    // With an issuer, the token endpoint is added once the metadata names it (see #send).
    if (this.#grant.issuer === undefined) this.#tokenUrls.add(this.#grant.tokenUrl)
    if (this.#grant.revocationUrl !== undefined) this.#tokenUrls.add(this.#grant.revocationUrl)
    const subjects = this.#grant.subjectTokens
    const revocation = settings.revocation
    if (sessions || subjects || revocation) {
      const host = this.#host()
      this.#sessions = sessions?.attach(host)
      this.#subjects = subjects?.attach(host)
      this.#revocation = revocation?.attach(host)
    }
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
    if (this.#closed) return Promise.reject(closedError())
    const subjects = this.#subjects
    if (subjects !== undefined || options?.subjectToken !== undefined) {
      if (subjects) return subjects.get(options)
      return Promise.reject(
        new ConfigError(
          'subjectToken',
          `the ${this.#grant.type} grant exchanges no token`,
          'Pass subjectToken only with a tokenExchange() grant from "@oauth-interceptors/core/token-exchange".',
        ),
      )
    }
    const sessions = this.#sessions
    if (sessions !== undefined || options?.session !== undefined) {
      try {
        return this.#sessionsFor('session').get(options)
      } catch (error) {
        return Promise.reject(error)
      }
    }
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
    return this.#serve(key, params, options?.signal)
  }

  /** The token of `key`: from memory when fresh, else from the one token request under way. */
  #serve(key: string, params: ResolvedParams, signal: AbortSignal | undefined): Promise<Token> {
    const entry = this.#memory.get(key)
    if (
      entry !== undefined &&
      !entry.rejected &&
      (entry.refreshAt === undefined || this.#now() < entry.refreshAt)
    ) {
      this.#stats.cacheHits++
      return entry.promise
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    const reason: RefreshReason =
      entry === undefined ? 'cold' : entry.rejected ? 'rejected' : 'expiring'
    const flight = this.#flight(key, reason, params)
    if (!this.#inFlight.has(flight)) {
      this.#inFlight.set(flight, key)
      const done = () => this.#inFlight.delete(flight)
      flight.then(done, done)
    }
    return signal ? abortable(flight, signal) : flight
  }

  /** What the grant's session or subject-token support works with: this manager's state. */
  #host(): ManagerHost {
    return {
      grant: this.#grant,
      settings: this.#settings,
      tokenSettings: this.#tokenSettings,
      shared: this.#shared,
      keyOf: (params) => this.#keyOf(params),
      serve: (key, params, signal) =>
        this.#closed ? Promise.reject(closedError()) : this.#serve(key, params, signal),
      settle: async (key) => {
        const flights = [...this.#inFlight].filter(([, of]) => of === key)
        await Promise.allSettled(flights.map(([flight]) => flight))
      },
      held: (key) => this.#memory.get(key)?.token,
      drop: (key) => this.#drop(key),
      remember: (key, token) => this.#remember(key, token),
      fromStore: (key, token, reason) => this.#fromStore(key, token, reason),
      revokeKeys: async (keys, caller) => this.#revocationFor(caller).revokeKeys(keys),
      context: this.#context,
      defaultKey: this.#defaultKey,
      stats: this.#stats,
      keys: () => [...this.#memory.keys()],
      knownSecrets: this.#knownSecrets,
      emit: (event) => this.#emit(event),
      endpoint: (url) => this.#tokenUrls.add(url),
    }
  }

  /** The revocation calls, or a ConfigError naming `revocation` for `caller` without them. */
  #revocationFor(caller: string): RevocationMethods {
    const revocation = this.#revocation
    if (revocation === undefined) {
      throw new ConfigError(
        'revocation',
        `${caller} revokes tokens only with revocation support, which is not given`,
        "Pass revocation: revocation() from '@oauth-interceptors/core/revocation' to createTokenManager().",
      )
    }
    return revocation
  }

  /** The grant's session calls, or a ConfigError naming `option` for a grant without sessions. */
  #sessionsFor(option: string): SessionMethods {
    const sessions = this.#sessions
    if (sessions === undefined) {
      throw new ConfigError(
        option,
        `the ${this.#grant.type} grant holds no user sessions`,
        'Use userTokens() from "@oauth-interceptors/core/sessions" for per-user tokens.',
      )
    }
    return sessions
  }

  /**
   * Keeps the tokens of a user session: the token response of its login (the
   * authorization-code grant done by openid-client, Auth.js or your own callback), with
   * `access_token`, `token_type`, `expires_in` and `refresh_token`. From then on
   * `getToken({ session: id })` returns its access token, refreshed with its refresh token
   * before it expires (one refresh per session at a time, across processes with a shared
   * store; a rotated refresh token is stored before anyone may refresh again). Setting a
   * session again replaces its tokens.
   * @returns the session's token
   * @example
   * // In the login callback, after the code exchange:
   * await tokens.setSession(request.session.id, tokenResponse)
   */
  async setSession(id: string, tokens: Record<string, unknown>): Promise<Token> {
    if (this.#closed) throw closedError()
    return this.#sessionsFor('setSession').set(id, tokens)
  }

  /**
   * Forgets a user session's tokens, in memory and in the store (at logout): the next
   * `getToken({ session: id })` rejects with a `LoginRequiredError`, in every manager sharing the
   * store (they read each session there). With `revoke`, its refresh token and then its access
   * token are revoked at the grant's revocation endpoint first (RFC 7009; see {@link revoke}, and
   * give the manager `revocation: revocation()`): they are dropped whatever the answer, and a
   * failure rejects with a `RevocationError` afterwards (a `ConfigError` without the option).
   * @example
   * await tokens.endSession(request.session.id, { revoke: true })
   */
  async endSession(id: string, options?: EndSessionOptions): Promise<void> {
    return this.#sessionsFor('endSession').end(id, options)
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

  /**
   * What the pipeline calls when an API rejected `accessToken` (a 401): {@link invalidate}, with
   * a backoff for an API that rejects every token (a wrong audience, say). When the token that
   * replaced a rejected one is rejected too, no new token is asked for at once: for 1 s, doubling
   * up to 60 s, the token is kept and the 401 reaches the caller; then one fresh token is tried.
   * A response that accepts a token ({@link accept}) ends the backoff.
   * @returns `dropped` (the next `getToken()` gets a new token), `stale` (already replaced: the
   * stale-401 rule) or `backoff` (kept: a retry now would carry the same token)
   */
  reject(accessToken: string): 'dropped' | 'stale' | 'backoff' {
    const key = this.#keyByToken.get(accessToken)
    const entry = key === undefined ? undefined : this.#memory.get(key)
    if (key === undefined || entry === undefined || entry.token.accessToken !== accessToken)
      return 'stale'
    if (entry.rejected) return 'stale'
    const now = this.#now()
    const state = this.#rejections.get(key)
    if (state !== undefined && now < state.until) return 'backoff'
    if (state?.replaced) {
      // The fresh token that replaced a rejected one is rejected too: the API's fault, not the token's.
      state.backoffs++
      const delay = Math.min(
        REJECTION_BACKOFF.first * 2 ** (state.backoffs - 1),
        REJECTION_BACKOFF.max,
      )
      Object.assign(state, { until: now + delay, replaced: false })
      this.#stats.rejectionBackoffs++
      this.#emit({ type: 'rejection_backoff', key, backoffs: state.backoffs, delay })
      return 'backoff'
    }
    this.#rejections.set(key, { backoffs: state?.backoffs ?? 0, until: 0, replaced: true })
    entry.rejected = true
    return 'dropped'
  }

  /** A response accepted `accessToken`: the API takes tokens again, so a {@link reject} backoff ends. */
  accept(accessToken: string): void {
    if (this.#rejections.size === 0) return
    const key = this.#keyByToken.get(accessToken)
    if (key !== undefined) this.#rejections.delete(key)
  }

  /**
   * Revokes tokens at the grant's revocation endpoint (RFC 7009) and drops them: with no
   * options every token this manager holds, key after key, and the refresh token a
   * `refreshTokenGrant` starts from; with `scope`/`audience`/`resource` only those
   * `getToken()` with the same options returns. A revoked refresh token is never sent again: a
   * token request that would carry one fails with code `token_revoked`. For each cache key the refresh token goes first
   * (revoking it may revoke its access tokens, §2.1), then the access token, each as
   * `token=…&token_type_hint=…` with the grant's client authentication. With a `store`, the
   * shared entry of each key is revoked and deleted too. Transient failures (5xx, 429, network,
   * timeout) are retried like token requests.
   *
   * The tokens are dropped whatever the outcome, so none is ever sent again; the next
   * `getToken()` asks for a new one. A token request under way when `revoke()` starts is not
   * waited for (`close()` waits). Needs the `revocation` option (`revocation()` from
   * `@oauth-interceptors/core/revocation`), else rejects with a `ConfigError` naming it; rejects,
   * once every token was tried, with the first {@link RevocationError}.
   * @example
   * const tokens = createTokenManager({ grant, revocation: revocation() })
   * await tokens.revoke()
   */
  async revoke(options?: RevokeOptions): Promise<RevokeResult> {
    return this.#revocationFor('revoke()').revoke(options)
  }

  /**
   * Shuts the manager down: waits for token requests under way, revokes every token it holds
   * when `revoke` is set (see {@link revoke}; a failure, or a manager without the `revocation`
   * option, rejects after the manager is closed),
   * and drops them. Afterwards `getToken()`, and so every adapter request, rejects with code
   * `manager_closed`. The manager runs no timers of its own, so nothing else is left to stop.
   * Calling it again does nothing more (with `revoke`, it revokes what is left).
   */
  async close(options?: CloseOptions): Promise<void> {
    this.#closed = true
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.keys()])
    try {
      if (options?.revoke) await this.#revocationFor('close({ revoke: true })').revoke(undefined)
    } finally {
      for (const key of [...this.#memory.keys()]) this.#drop(key)
      this.#paramKeys.clear()
      this.#subjects?.clear()
      this.#sessions?.clear()
    }
  }

  /**
   * Whether `url` is one of this manager's token endpoints (adapters never add a token to it).
   * `origin`, when the caller knows it, spares parsing a URL on another origin (every request).
   */
  isTokenEndpoint(url: string | URL, origin?: string): boolean {
    return this.#tokenUrls.has(url, origin)
  }

  /** The DPoP key of the `dpop` option, whose proofs the pipeline sends with DPoP tokens. */
  get dpop(): DPoPKey | undefined {
    return this.#settings.dpop
  }

  /** The type of the manager's grant: `client_credentials`, `password`, `refresh_token`, `custom`, or a hand-written grant's own. */
  get grantType(): string {
    return this.#grant.type
  }

  /**
   * Calls `listener` with every event from now on, after the `onEvent` option; its exceptions
   * are ignored. For instrumentation that attaches to a manager created elsewhere, such as
   * `@oauth-interceptors/otel`. Events never carry secrets.
   * @returns a function that stops the calls (calling it again does nothing)
   * @example
   * const unsubscribe = tokens.subscribe((event) => metrics.increment(`oauth.${event.type}`))
   */
  subscribe(listener: (event: TokenEvent) => void): () => void {
    // A wrapper of its own, so the same function subscribed twice is called twice and unsubscribes once.
    const entry = (event: TokenEvent) => listener(event)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  /** Counters since creation, for metrics. */
  stats(): TokenStats {
    return { ...this.#stats, reasons: { ...this.#stats.reasons } }
  }

  /** No secrets here: what `console.log(manager)` and `JSON.stringify` show. */
  toJSON(): Record<string, unknown> {
    return { grant: this.#grant.type, tokenUrl: this.#grant.tokenUrl, stats: this.stats() }
  }

  /** Forgets the token of `key`, so the next `getToken()` asks for a new one. */
  #drop(key: string): void {
    const entry = this.#memory.get(key)
    if (entry === undefined) return
    this.#memory.delete(key)
    this.#keyByToken.delete(entry.token.accessToken)
    this.#rejections.delete(key)
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
      ...(params.subject ? [params.subject.type, params.subject.hash] : []),
      ...(params.session ? [params.session] : []),
    ])
  }

  /** The grant's secrets and every token held, for redacting an error (read on error paths only). */
  readonly #knownSecrets = (): Array<string | undefined> => {
    const known: Array<string | undefined> = [
      ...(this.#grant.secrets?.() ?? []),
      ...(this.#settings.dpop?.secrets?.() ?? []),
    ]
    for (const { token } of this.#memory.values()) known.push(token.accessToken, token.refreshToken)
    return known
  }

  async #refresh(key: string, reason: RefreshReason, params: ResolvedParams): Promise<Token> {
    const entry = this.#memory.get(key)
    // The server asked us to wait (Retry-After beyond our retries): don't ask again yet.
    let failure = this.#cooldowns.active(key)
    if (failure === undefined) {
      try {
        const token = await this.#obtain(key, reason, params, entry)
        this.#cooldowns.clear(key)
        return token
      } catch (error) {
        failure = asLibraryError(error)
        this.#stats.failed++
        this.#emit({ type: 'token_failed', key, reason, error: failure })
        this.#cooldowns.record(key, failure)
        // The session's tokens are no good to anyone any more, in this process or another.
        if (failure.code === 'login_required') {
          this.#drop(key)
          await this.#shared?.take(key)
          throw failure
        }
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
      entry.refreshAt = earlyRefreshRetryAt(now, entry.token.expiresAt)
      return entry.token
    }
    throw failure
  }

  /** A new token for `key`: through the shared store when there is one, else from the endpoint. */
  #obtain(
    key: string,
    reason: RefreshReason,
    params: ResolvedParams,
    entry: Entry | undefined,
  ): Promise<Token> {
    const fromEndpoint = async (previous: Token | undefined) => {
      const requested = await this.#request(key, reason, params, previous)
      const token = this.#subjects?.capped(requested, params) ?? requested
      this.#remember(key, token)
      return token
    }
    const shared = this.#shared
    if (shared === undefined) return fromEndpoint(entry?.token)
    const share = (binding: string | undefined) =>
      shared.obtain(key, {
        binding,
        current: entry?.token,
        rejected: entry?.rejected ?? false,
        authoritative: this.#grant.sessions !== undefined,
        fromEndpoint,
        fromStore: (token) => this.#fromStore(key, token, reason),
      })
    const dpop = this.#settings.dpop
    return dpop ? dpop.thumbprint().then(share) : share(undefined)
  }

  /** Takes `token`, which another manager or process stored under `key`. */
  #fromStore(key: string, token: Token, reason: RefreshReason): Token {
    this.#remember(key, token)
    this.#stats.fromStore++
    this.#emit({
      type: 'token_received',
      key,
      reason,
      lifetime: lifetimeFrom(token, this.#now()),
      source: 'store',
    })
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
    const sessions = grant.sessions
    if (sessions && refreshToken === undefined) throw sessions.loginRequired(previous)
    if (refreshToken !== undefined && grant.refresh) {
      try {
        return await this.#send(
          key,
          reason,
          'refresh',
          () => grant.refresh?.(refreshToken, params, this.#context) as Promise<TokenRequest>,
          refreshToken,
        )
      } catch (error) {
        const ended = sessions?.loginRequired(previous, error)
        if (ended) throw ended
        if (!grant.reobtainAfterRefreshFailure) throw error
        this.#emit({ type: 'refresh_fallback', key, error: asLibraryError(error) })
      }
    }
    return this.#send(key, reason, 'obtain', () => grant.obtain(params, this.#context), undefined)
  }

  /** One token request, retried with backoff while it fails transiently. */
  async #send(
    key: string,
    reason: RefreshReason,
    via: 'obtain' | 'refresh',
    build: () => TokenRequest | Promise<TokenRequest>,
    usedRefreshToken: string | undefined,
  ): Promise<Token> {
    const { retry, random, timers, deadline, timeout, dpopRequests: dpop } = this.#settings
    const settings = this.#tokenSettings
    const firstStart = this.#now()
    let nonceRetried = false
    let sentTo: string | undefined
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.#now()
      // An attempt never runs past the deadline: its timeout is what is left of it.
      const left = deadline - (startedAt - firstStart)
      const cut = left < timeout
      this.#stats.requested++
      this.#emit({ type: 'token_requested', key, reason, via, attempt })
      try {
        const built = await build()
        this.#revocation?.refuse(built)
        this.#tokenUrls.add(built.url)
        sentTo = built.url
        const request = dpop ? await dpop.sign(built) : built
        const body = await postTokenRequest(
          request,
          cut ? { ...settings, timeout: Math.max(left, 1) } : settings,
        )
        let token = toToken(body, settings, startedAt, usedRefreshToken)
        if (dpop) token = await dpop.bind(token)
        this.#stats.received++
        this.#stats.reasons[reason]++
        this.#emit({
          type: 'token_received',
          key,
          reason,
          lifetime: lifetimeFrom(token, startedAt),
          source: 'endpoint',
        })
        return token
      } catch (error) {
        const failure = redactValue(asLibraryError(error), lazyRedactor(this.#knownSecrets))
        // RFC 9449 §8: the server asked for its nonce in the proof; ask once more with it.
        if (dpop && !nonceRetried && sentTo !== undefined && dpop.retry(failure, sentTo)) {
          nonceRetried = true
          continue
        }
        const delay = retry === false ? undefined : retryDelay(failure, attempt, retry, random)
        const atDeadline = cut && failure.code === 'timeout'
        if (delay === undefined && !atDeadline) {
          if (attempt > 1) {
            const over = ((this.#now() - firstStart) / 1000).toFixed(1)
            failure.message += ` (after ${attempt} attempts over ${over} s)`
          }
          throw failure
        }
        // The deadline bounds all attempts and waits together; `timeout` bounds one attempt.
        const elapsed = this.#now() - firstStart
        if (delay === undefined || elapsed + delay > deadline) {
          throw new TokenEndpointError(
            `Token request gave up at its ${deadline} ms deadline after ${attempt} attempt${attempt === 1 ? '' : 's'} over ${(elapsed / 1000).toFixed(1)} s`,
            'timeout',
            { cause: failure, transient: true },
          )
        }
        this.#stats.retried++
        this.#emit({ type: 'token_retry', key, attempt, delay, error: failure })
        await backoff(delay, timers)
      }
    }
  }

  #emit(event: TokenEvent): void {
    const onEvent = this.#settings.onEvent
    if (onEvent) {
      try {
        onEvent(event)
      } catch {
        // A broken listener must not break token handling.
      }
    }
    if (this.#listeners.size === 0) return
    for (const listener of [...this.#listeners]) {
      try {
        listener(event)
      } catch {
        // The same for subscribers.
      }
    }
  }
}

/** Creates a {@link TokenManager}. */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  return new TokenManager(options)
}

/** What `getToken()` rejects with once {@link TokenManager.close} was called. */
function closedError(): OAuthInterceptorsError {
  return new OAuthInterceptorsError(
    'The token manager was closed; create a new one to get tokens again',
    'manager_closed',
  )
}

/** One part of a call's params signature; `\u0001` marks "not given" (a scope may be ''). */
function part(value: string | readonly string[] | undefined): string {
  return value === undefined ? '\u0001' : typeof value === 'string' ? value : value.join(' ')
}

/** The library's errors pass; anything else came from a grant's own code (a hand-written `Grant`). */
function asLibraryError(error: unknown): OAuthInterceptorsError {
  if (isOAuthInterceptorsError(error)) return error
  return customGrantError('Building the token request failed in the grant', error)
}
