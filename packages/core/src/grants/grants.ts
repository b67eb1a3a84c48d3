import { ConfigError, TokenEndpointError } from '../errors'
import type { SharedTokenStore, StoreSharing } from '../manager/store-protocol'
import type {
  EndSessionOptions,
  GetTokenOptions,
  RevokeOptions,
  RevokeResult,
} from '../manager/token-manager'
import { formEncode, type Redact, redactor, redactValue, requestSecrets } from '../redact'
import type { MaybePromise, RefreshReason, Timers, Token, TokenEvent, TokenStats } from '../types'
import {
  type ManagerSettings,
  requireHttpUrl,
  requireString,
  resourceIndicators,
} from '../validate'
import { fingerprint } from './fingerprint'
import type { FetchLike } from './token-endpoint'

/** An HTTP request to a token endpoint: always a POST. */
export interface TokenRequest {
  /** The token endpoint's absolute URL. */
  url: string
  /** Request headers, lower-case names (`authorization`, `content-type`, `accept`). */
  headers: Record<string, string>
  /** The encoded body: form-urlencoded, or JSON with `client_secret_json`. */
  body: string
}

/** A successful token response, normalised. `parse` functions return this. */
export interface TokenResponse {
  /** The access token (RFC 6749 §5.1 `access_token`). */
  accessToken: string
  /** The token type, e.g. `Bearer`; absent counts as Bearer. @see https://www.rfc-editor.org/rfc/rfc6749#section-7.1 */
  tokenType?: string | undefined
  /** Seconds; a numeric string is accepted (some providers send one). */
  expiresIn?: number | string | undefined
  /** A refresh token, when the server issued one (RFC 6749 §6). */
  refreshToken?: string | undefined
  /** The granted scope, when it differs from the one asked for (RFC 6749 §3.3). */
  scope?: string | undefined
}

/** What shapes a token beyond the client: may be set per grant and per `getToken()` call. */
export interface TokenParams {
  /** Space-separated string or a list. */
  scope?: string | readonly string[] | undefined
  /** Audience, as Auth0 and others name the API. */
  audience?: string | undefined
  /** RFC 8707 resource indicators: absolute URIs, may repeat. */
  resource?: string | readonly string[] | undefined
}

/** Params after normalisation; part of the cache key. */
export interface ResolvedParams {
  /** Space-separated scope, or `undefined` for the server's default. */
  scope: string | undefined
  /** The audience, or `undefined`. */
  audience: string | undefined
  /** RFC 8707 resource indicators, validated absolute URIs; empty for none. */
  resource: readonly string[]
  /** With a token exchange grant: the call's subject token (RFC 8693 §2.1). */
  subject?: SubjectToken | undefined
  /** With a user-session grant: the SHA-256 of the call's session id (never the id itself). */
  session?: string | undefined
}

/**
 * What a user-session grant lends its manager: the session checks, errors and default store,
 * which live behind `@oauth-interceptors/core/sessions` so that other apps do not ship them.
 */
export interface SessionSupport {
  /** The SHA-256 of a session id; a `ConfigError` naming `option` for one that is no id. */
  hash(id: unknown, option: string): Promise<string>
  /** A `ConfigError` for per-call options a session's token cannot honour. */
  check(options: TokenParams | undefined): void
  /** The login's token response, checked to be one (a `ConfigError` naming `tokens`). */
  response(tokens: unknown): Record<string, unknown>
  /**
   * The error that ends a session: it holds no token (`previous` undefined), or no refresh
   * token, or the server refused its refresh token (`refusal`). `undefined`: the refusal does
   * not end the session (a transient failure).
   */
  loginRequired(previous: Token | undefined, refusal?: unknown): Error | undefined
  /** The store sessions live in when the manager is given none. */
  store(maxEntries: number): SharedTokenStore
  /** The session methods of the manager lending `host`, kept out of the manager's class. */
  attach(host: ManagerHost): SessionMethods
}

/** What the session support runs for a manager's `getToken({ session })`, `setSession()` and `endSession()`. */
export interface SessionMethods {
  get(options: GetTokenOptions | undefined): Promise<Token>
  set(id: string, tokens: Record<string, unknown>): Promise<Token>
  end(id: string, options: EndSessionOptions | undefined): Promise<void>
  /** Forgets the session ids (at `close()`). */
  clear(): void
}

/**
 * What a token manager lends the features that live in their own entries (user sessions, token
 * exchange, revocation): its settings and the parts of its token state their calls go through.
 */
export interface ManagerHost {
  readonly grant: Grant
  readonly settings: ManagerSettings
  /** The settings of token requests: with DPoP, a fetch that keeps the endpoint's nonce. */
  readonly tokenSettings: ManagerSettings
  /** The store protocol, with a `store` given or a user-session grant's own. */
  readonly shared: StoreSharing | undefined
  /** The cache key of `params`. */
  keyOf(params: ResolvedParams): string
  /**
   * The token of `key`: from memory when fresh, else from the one token request under way; a
   * `manager_closed` error once the manager is closed.
   */
  serve(key: string, params: ResolvedParams, signal: AbortSignal | undefined): Promise<Token>
  /** Resolves once the token request under way for `key`, if any, has settled. */
  settle(key: string): Promise<void>
  /** The token memory holds under `key`, fresh or not. */
  held(key: string): Token | undefined
  /** Forgets the token of `key`. */
  drop(key: string): void
  /** Keeps `token` under `key`. */
  remember(key: string, token: Token): void
  /** Takes `token`, which another manager or process stored under `key`. */
  fromStore(key: string, token: Token, reason: RefreshReason): Token
  /** Revokes and drops the tokens of `keys` (a ConfigError naming `caller` without revocation support). */
  revokeKeys(keys: readonly string[], caller: string): Promise<unknown>
  /** What discovery works with: the manager's fetch, clock, timers and timeout. */
  readonly context: DiscoveryContext
  /** The cache key of the grant's own params. */
  readonly defaultKey: string
  /** The counters of `stats()`, to count in. */
  readonly stats: TokenStats
  /** The keys memory holds tokens under. */
  keys(): string[]
  /** The grant's secrets and every token held, for redacting an error (read on error paths only). */
  knownSecrets(): Array<string | undefined>
  /** Tells `onEvent` and the subscribers. */
  emit(event: TokenEvent): void
  /** Adds `url` to the endpoints adapters never give a token to. */
  endpoint(url: string): void
}

/**
 * The revocation support a manager is given as its `revocation` option (RFC 7009): `revocation()`
 * from `@oauth-interceptors/core/revocation`.
 */
export interface RevocationSupport {
  /** The revocation calls of the manager lending `host`; a ConfigError for a grant without a revocation endpoint. */
  attach(host: ManagerHost): RevocationMethods
}

/** What the revocation support runs for a manager's `revoke()`, `close({ revoke })` and `endSession(id, { revoke })`. */
export interface RevocationMethods {
  revoke(options: RevokeOptions | undefined): Promise<RevokeResult>
  /** Revokes and drops the tokens of `keys`. */
  revokeKeys(keys: readonly string[]): Promise<RevokeResult>
  /** Throws a `token_revoked` error for a request that would carry a revoked refresh token. */
  refuse(request: TokenRequest): void
}

/**
 * What a token exchange grant lends its manager: the subject-token handling of
 * `getToken({ subjectToken })`, behind `@oauth-interceptors/core/token-exchange`.
 */
export interface SubjectTokenSupport {
  /** The `subject_token_type` of a subject token given without a type. */
  readonly defaultType: string
  /** The subject-token calls of the manager lending `host`. */
  attach(host: ManagerHost): SubjectTokenMethods
}

/** What the subject-token support runs for a manager's `getToken({ subjectToken })`. */
export interface SubjectTokenMethods {
  get(options: GetTokenOptions | undefined): Promise<Token>
  /** A token exchanged for a subject token lasts no longer than the subject token. */
  capped(token: Token, params: ResolvedParams): Token
  /** Forgets the subject tokens' keys (at `close()`). */
  clear(): void
}

/**
 * The token a token exchange grant exchanges (RFC 8693 §2.1 `subject_token`), as given to one
 * `getToken({ subjectToken })` call. The cache key holds its hash, never the token itself.
 */
export interface SubjectToken {
  /** The subject token itself: a secret, never put in logs, events or cache keys. */
  readonly token: string
  /** Its `subject_token_type`, a URI such as `urn:ietf:params:oauth:token-type:access_token`. */
  readonly type: string
  /** SHA-256 of the token, base64url: what the cache key and a shared store hold. */
  readonly hash: string
  /** When the subject token expires (ms since the epoch), when known: tokens exchanged for it are not used past it. */
  readonly expiresAt: number | undefined
}

/**
 * How a manager obtains tokens. Build one with {@link clientCredentials},
 * {@link passwordGrant}, {@link refreshTokenGrant} or {@link customGrant}.
 */
export interface Grant {
  /** The grant's name, e.g. `client_credentials`, `password`, `refresh_token` or `custom`. */
  readonly type: string
  /**
   * The token endpoint; requests to it are never given a token by the adapters. With `issuer`,
   * the issuer identifier: the token endpoint is read from its metadata on the first request.
   */
  readonly tokenUrl: string
  /** The issuer whose metadata gives the endpoints, when the grant was given `issuer`. */
  readonly issuer?: string | undefined
  /** The revocation endpoint (RFC 7009), when configured; adapters never give it a token either. */
  readonly revocationUrl?: string | undefined
  /**
   * The transport of this grant's token and revocation requests, when its client authentication
   * brings one: an mTLS method's, which presents the client certificate (RFC 8705 §2). The
   * manager's `fetch` carries them otherwise, and carries the metadata request always.
   * @default the manager's `fetch`
   */
  readonly fetch?: FetchLike | undefined
  /**
   * Everything besides params that shapes the token (client id, user name, fingerprints of
   * secret inputs). No secrets. `undefined`: unknown, so its tokens must not go to a shared store.
   */
  readonly identity: readonly string[] | undefined
  /** Params set on the grant; `getToken()` may override them. */
  readonly params: ResolvedParams
  /** Log in afresh when using the refresh token fails. */
  readonly reobtainAfterRefreshFailure: boolean
  /**
   * The grant exchanges a token given with each call (`getToken({ subjectToken })`, RFC 8693):
   * `tokenExchange()` from `@oauth-interceptors/core/token-exchange`. Its `subjectTokenType`
   * is the type of a subject token given without one.
   */
  readonly subjectTokens?: SubjectTokenSupport | undefined
  /**
   * The grant holds the tokens of user sessions, set with `setSession()` and asked for with
   * `getToken({ session })`: `userTokens()` from `@oauth-interceptors/core/sessions`.
   */
  readonly sessions?: SessionSupport | undefined
  /** A request that gets a token without a refresh token. */
  obtain(params: ResolvedParams, context?: DiscoveryContext): MaybePromise<TokenRequest>
  /** A request that trades a refresh token for a token; absent when the grant has none. */
  refresh?(
    refreshToken: string,
    params: ResolvedParams,
    context?: DiscoveryContext,
  ): MaybePromise<TokenRequest>
  /** Reads a successful (2xx, no `error` member) response body. */
  parse(body: Record<string, unknown>): TokenResponse
  /**
   * A request that revokes `token` (RFC 7009 §2.1), with the client's authentication; absent
   * when the grant has no revocation endpoint.
   */
  revoke?(
    token: string,
    hint: TokenTypeHint,
    context?: DiscoveryContext,
  ): MaybePromise<TokenRequest>
  /**
   * The refresh token the grant starts from, if it has one (`refreshTokenGrant`): `revoke()`
   * revokes it along with the cached tokens. A method, so that printing a grant never shows it.
   */
  startingRefreshToken?(): string
  /**
   * The secrets this grant holds (client secret, Basic credentials, password, refresh token, key
   * material), so that none is repeated from server text into an error or event. Read only when
   * an error is being built. What a request carries in its `Authorization` header or in members
   * named like credentials is redacted too, without being listed here.
   */
  secrets?(): readonly (string | undefined)[]
}

/**
 * What a token manager lends a grant for discovery: its fetch, clock, timers and timeout. One
 * object per manager, so each manager fetches the metadata once and keeps it.
 */
export interface DiscoveryContext {
  /** The manager's `fetch`, for the metadata request. */
  readonly fetch: FetchLike
  /** The manager's clock in ms, for the backoff after a failed metadata request. */
  readonly now: () => number
  /** The manager's timers, for the metadata request's timeout. */
  readonly timers: Timers
  /** The manager's per-request timeout in ms, for the metadata request too. */
  readonly timeout: number
}

/** What the grants use of an authorization server's metadata (RFC 8414 §2). */
export interface IssuerMetadata {
  /** The issuer identifier, equal to the configured one. */
  readonly issuer: string
  /** The issuer's origin, for messages. */
  readonly origin: string
  /** `token_endpoint`. */
  readonly tokenEndpoint: string
  /** `revocation_endpoint`, if the server has one. */
  readonly revocationEndpoint: string | undefined
  /** `token_endpoint_auth_methods_supported`, if listed (RFC 8414: `client_secret_basic` if not). */
  readonly authMethods: readonly string[] | undefined
  /**
   * `mtls_endpoint_aliases` (RFC 8705 §5): the endpoints a client using mutual TLS sends its
   * requests to in place of the plain ones; absent when the metadata has none.
   */
  readonly mtlsEndpointAliases?:
    | {
        /** The alias of `token_endpoint`. */
        readonly tokenEndpoint: string | undefined
        /** The alias of `revocation_endpoint`. */
        readonly revocationEndpoint: string | undefined
      }
    | undefined
}

/**
 * An issuer whose metadata gives a grant its endpoints: made by `discover(issuer)` from
 * `@oauth-interceptors/core/discovery`, which holds the discovery code.
 */
export interface Issuer {
  /** The issuer identifier, as configured. */
  readonly issuer: string
  /** The metadata: fetched once per `context`, validated. */
  metadata(context?: DiscoveryContext): Promise<IssuerMetadata>
  /**
   * Where a request goes and how the client authenticates: the metadata's token endpoint (or
   * revocation endpoint, with `revocation`) and `method` checked against, or with `auto` chosen
   * from, its `token_endpoint_auth_methods_supported`. Throws a `ConfigError` when the server has
   * no such endpoint or does not support the method.
   */
  resolve(
    context: DiscoveryContext | undefined,
    request: { revocation: boolean; method?: string | undefined; hasSecret?: boolean | undefined },
  ): Promise<{
    /** The endpoint to send the request to. */
    url: string
    /** The client authentication method to use (`client_secret_basic`, …). */
    method: string
  }>
}

/** Which kind of token a revocation request carries (RFC 7009 §2.1 `token_type_hint`). */
export type TokenTypeHint = 'access_token' | 'refresh_token'

/**
 * How the client authenticates at the token endpoint (RFC 6749 §2.3).
 * - `client_secret_basic`: HTTP Basic, id and secret form-urlencoded first (§2.3.1). The default.
 * - `client_secret_post`: `client_id` and `client_secret` in the form body.
 * - `client_secret_json`: the same members in a JSON body (providers that only take JSON).
 * - `none`: a public client; only `client_id` is sent.
 * - `auto` (with `issuer` only, and its default there): chosen from the server's
 *   `token_endpoint_auth_methods_supported` and the credentials given: `client_secret_basic`,
 *   else `client_secret_post` with a secret; `none` without one.
 */
export type ClientAuth =
  | 'auto'
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_json'
  | 'none'

/**
 * A JWT client authentication method (RFC 7523 §2.2): the client sends a fresh signed assertion
 * with every token request. Made by `privateKeyJwt()` or `clientSecretJwt()` from
 * `@oauth-interceptors/core/jwt`, which holds the signing code, so an app that does not use it
 * does not ship it.
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export interface ClientAssertion {
  /** The method's registered name: `private_key_jwt` or `client_secret_jwt`. */
  readonly method: 'private_key_jwt' | 'client_secret_jwt'
  /**
   * The body members of one token request: `client_assertion_type` and a new `client_assertion`
   * (RFC 7521 §4.2).
   */
  members(client: ClientAssertionInput): Promise<Record<string, string>>
  /** The key material it holds, redacted from any error or event. */
  secrets(): readonly string[]
}

/** What a {@link ClientAssertion} is signed for. */
export interface ClientAssertionInput {
  /** The client identifier: the assertion's `iss` and `sub`. */
  clientId: string
  /** The token endpoint the assertion is sent to: its default `aud`. */
  tokenUrl: string
  /** The client secret (with `client_secret_jwt`, the HMAC key). */
  clientSecret: string | undefined
}

/**
 * Mutual TLS client authentication (RFC 8705 §2): the client proves itself with the certificate
 * it presents in the TLS handshake, and the request carries `client_id` and no secret. Made by
 * `tlsClientAuth()` or `selfSignedTlsClientAuth()` from `@oauth-interceptors/core/mtls`, which
 * holds the code, so an app that does not use it does not ship it.
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 */
export interface ClientCertificateAuth {
  /** The method's registered name: `tls_client_auth` (PKI) or `self_signed_tls_client_auth`. */
  readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth'
  /**
   * The transport that presents the certificate to the token and revocation endpoints, or
   * `undefined` when the manager's own `fetch` does.
   */
  readonly fetch: FetchLike | undefined
}

/**
 * Options of {@link clientCredentials}, and the client part of {@link passwordGrant} and
 * {@link refreshTokenGrant}: the token endpoint, the client's credentials and how they are sent.
 * @example
 * { tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'orders-service',
 *   clientSecret: process.env.CLIENT_SECRET, scope: 'orders:read' }
 */
export interface ClientOptions extends TokenParams {
  /**
   * Absolute URL of the token endpoint; `https:` unless it is on loopback or
   * `allowInsecureHttp` is set.
   */
  tokenUrl?: string | undefined
  /**
   * The authorization server, in place of `tokenUrl`: `discover('https://auth.example.com')`
   * from `@oauth-interceptors/core/discovery`. Its metadata gives the token endpoint, the
   * revocation endpoint and the client authentication methods. Exactly one of `tokenUrl` and
   * `issuer` is given.
   * @default none
   */
  issuer?: Issuer | undefined
  /**
   * Absolute URL of the revocation endpoint (RFC 7009), for `manager.revoke()`; checked like
   * `tokenUrl`. The server's metadata names it `revocation_endpoint`; with `issuer`, that is
   * used unless this is set.
   * @default none (with `issuer`, the metadata's `revocation_endpoint`): `revoke()` is a `ConfigError`
   */
  revocationUrl?: string | undefined
  /** The client identifier the authorization server issued (RFC 6749 §2.2). */
  clientId: string
  /**
   * The client secret. Leave the key out for a public client; a key that is present but unset
   * (`process.env.UNSET`) is a `ConfigError` naming `clientSecret`.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
   */
  clientSecret?: string | undefined
  /**
   * How the client authenticates at the token endpoint: a method name, a JWT assertion
   * method, `privateKeyJwt({ key })` or `clientSecretJwt()` from `@oauth-interceptors/core/jwt`,
   * or a mutual TLS method, `tlsClientAuth()` or `selfSignedTlsClientAuth()` from
   * `@oauth-interceptors/core/mtls`. With `issuer`, a method the server's metadata does not list
   * is a `ConfigError`.
   * @default 'auto' with `issuer`; else 'client_secret_basic' when a secret is given, else 'none'
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3
   */
  clientAuth?: ClientAuth | ClientAssertion | ClientCertificateAuth | undefined
  /** With `client_secret_basic`, also send `client_id` in the body (some providers ask). @default false */
  clientIdInBody?: boolean | undefined
  /**
   * More body parameters sent with every token request; a list repeats the parameter.
   * @default none
   * @example { extraParams: { organization: 'acme' } }
   */
  extraParams?: Readonly<Record<string, string | readonly string[]>> | undefined
  /**
   * Accept a plain `http://` token endpoint that is not on loopback (credentials in clear text).
   * @default false
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
   */
  allowInsecureHttp?: boolean | undefined
}

const CLIENT_AUTHS = new Set([
  'auto',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_json',
  'none',
])

/** The `Authorization` value of `client_secret_basic` (RFC 6749 §2.3.1). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`
}

export function resolveParams(params: TokenParams, base?: ResolvedParams): ResolvedParams {
  const scope =
    params.scope === undefined
      ? base?.scope
      : typeof params.scope === 'string'
        ? params.scope
        : params.scope.join(' ')
  return {
    scope: scope === '' ? undefined : scope,
    audience: params.audience ?? base?.audience,
    resource:
      params.resource === undefined ? (base?.resource ?? []) : resourceIndicators(params.resource),
  }
}

export type BodyValue = string | readonly string[]

/** Client authentication and body encoding shared by the standard grants. */
export class ClientAuthentication {
  readonly clientId: string
  /** Client id, authentication method and a fingerprint of the extra params: all shape a token. */
  readonly identity: readonly string[]
  /** The token endpoint (with `issuer`, the issuer identifier). */
  readonly tokenUrl: string
  readonly #issuer: Issuer | undefined
  readonly #secret: string | undefined
  readonly #method: string
  readonly #assertion: ClientAssertion | undefined
  /** An mTLS method's transport, presenting the client certificate (undefined: the manager's). */
  readonly fetch: FetchLike | undefined
  readonly #idInBody: boolean
  readonly #extra: Readonly<Record<string, BodyValue>>

  constructor(options: ClientOptions, grantName: string) {
    const { tokenUrl, issuer } = endpointOf(options)
    this.tokenUrl = tokenUrl
    this.#issuer = issuer
    this.clientId = requireString(
      'clientId',
      options.clientId,
      `${grantName}() needs clientId: the client identifier your authorization server issued.`,
    )
    // A key that is present but unset (`clientSecret: process.env.UNSET`) is a deployment
    // mistake, not a public client: only leaving the key out means "no secret".
    const auth = options.clientAuth
    const assertion = (auth as ClientAssertion | undefined)?.members && (auth as ClientAssertion)
    // Any other object is an mTLS method: the certificate in the TLS handshake authenticates.
    const tls = !assertion && typeof auth === 'object' ? (auth as ClientCertificateAuth) : undefined
    const method: string =
      (auth as { method?: string } | undefined)?.method ??
      (auth as ClientAuth | undefined) ??
      (issuer ? 'auto' : options.clientSecret === undefined ? 'none' : 'client_secret_basic')
    if (method === 'auto' && !issuer) {
      throw new ConfigError(
        'clientAuth',
        '"auto" needs issuer',
        'Pass issuer: discover(url) from "@oauth-interceptors/core/discovery", or name a method.',
      )
    }
    const keyOnly = method === 'none' || method === 'private_key_jwt' || method === 'auto' || tls
    if ('clientSecret' in options && auth !== 'none' && method !== 'private_key_jwt' && !tls) {
      requireString(
        'clientSecret',
        options.clientSecret,
        'Set it to the client secret; for a public client leave it out or set clientAuth: "none".',
      )
    }
    // The methods of objects are checked where they are made (core/jwt, core/mtls).
    if (!assertion && !tls && !CLIENT_AUTHS.has(method)) {
      throw new ConfigError(
        'clientAuth',
        `"${String(method)}" is not a supported client authentication method`,
        'Use "client_secret_basic", "client_secret_post", "client_secret_json", "none" or, with issuer, "auto"; for JWTs, privateKeyJwt() or clientSecretJwt() from "@oauth-interceptors/core/jwt"; for mutual TLS, tlsClientAuth() from "@oauth-interceptors/core/mtls".',
      )
    }
    if (!keyOnly) {
      requireString(
        'clientSecret',
        options.clientSecret,
        `clientAuth "${method}" needs clientSecret; for a public client set clientAuth: "none".`,
      )
    }
    this.#secret = options.clientSecret
    this.#method = method
    this.#assertion = assertion || undefined
    this.fetch = tls?.fetch
    this.#idInBody = options.clientIdInBody ?? false
    this.#extra = options.extraParams ?? {}
    const extra = Object.entries(this.#extra).sort(([a], [b]) => (a < b ? -1 : 1))
    this.identity = [this.clientId, method, extra.length ? fingerprint(JSON.stringify(extra)) : '']
  }

  /** The client secret, and the Basic credentials built from it (decoded and base64); key material. */
  secrets(): string[] {
    const key = this.#assertion?.secrets() ?? []
    if (this.#secret === undefined || this.#method === 'none') return [...key]
    // Whatever the method, a server may answer with the Basic form of the credentials.
    const basic = basicAuthorization(this.clientId, this.#secret)
    return [
      this.#secret,
      `${formEncode(this.clientId)}:${formEncode(this.#secret)}`,
      basic.slice(6),
      ...key,
    ]
  }

  /**
   * A POST carrying `members` and the client's credentials, to `url` or, when `url` is
   * undefined, to the endpoint the issuer's metadata names. A revocation request is always
   * form-encoded (RFC 7009 §2.1), so `client_secret_json` sends its members in the form, and
   * carries no `extraParams`.
   */
  request(
    url: string | undefined,
    members: Record<string, BodyValue | undefined>,
    options: { revocation?: boolean } = {},
    context?: DiscoveryContext,
  ): MaybePromise<TokenRequest> {
    const issuer = this.#issuer
    if (!issuer) return this.#withAssertion(url as string, this.#method, members, options)
    const revocation = options.revocation ?? false
    return issuer
      .resolve(context, {
        revocation: revocation && url === undefined,
        method: this.#method,
        hasSecret: this.#secret !== undefined,
      })
      .then((resolved) =>
        this.#withAssertion(url ?? resolved.url, resolved.method, members, options),
      )
  }

  #withAssertion(
    url: string,
    method: string,
    members: Record<string, BodyValue | undefined>,
    options: { revocation?: boolean },
  ): MaybePromise<TokenRequest> {
    const assertion = this.#assertion
    // RFC 7521 §4.2: a new assertion for every request, retries included.
    return assertion
      ? assertion
          .members({ clientId: this.clientId, tokenUrl: url, clientSecret: this.#secret })
          .then((more) => this.#request(url, method, { ...members, ...more }, options))
      : this.#request(url, method, members, options)
  }

  #request(
    url: string,
    method: string,
    members: Record<string, BodyValue | undefined>,
    { revocation = false }: { revocation?: boolean },
  ): TokenRequest {
    const body: Record<string, BodyValue> = {}
    for (const [name, value] of Object.entries(
      revocation ? members : { ...this.#extra, ...members },
    )) {
      if (value !== undefined && (typeof value === 'string' || value.length > 0)) body[name] = value
    }
    const headers: Record<string, string> = { accept: 'application/json' }
    if (method === 'client_secret_basic') {
      headers.authorization = basicAuthorization(this.clientId, this.#secret as string)
      if (this.#idInBody) body.client_id = this.clientId
    } else {
      body.client_id = this.clientId
      // Assertions, mTLS (RFC 8705 §2) and public clients send no secret.
      if (method === 'client_secret_post' || method === 'client_secret_json') {
        body.client_secret = this.#secret as string
      }
    }
    if (method === 'client_secret_json' && !revocation) {
      headers['content-type'] = 'application/json'
      return { url, headers, body: JSON.stringify(body) }
    }
    headers['content-type'] = 'application/x-www-form-urlencoded'
    return { url, headers, body: toForm(body) }
  }
}

/**
 * The grant's token endpoint, or its issuer: exactly one of `tokenUrl` and `issuer`.
 * With an issuer, `tokenUrl` is the issuer identifier (part of the cache key).
 */
export function endpointOf(options: {
  tokenUrl?: string | undefined
  issuer?: Issuer | undefined
  allowInsecureHttp?: boolean | undefined
}): { tokenUrl: string; issuer?: Issuer } {
  const issuer = options?.issuer
  if (issuer === undefined) {
    return { tokenUrl: requireHttpUrl('tokenUrl', options?.tokenUrl, options?.allowInsecureHttp) }
  }
  if (options.tokenUrl !== undefined) {
    throw new ConfigError('issuer', 'both tokenUrl and issuer are set', 'Pass one of them.')
  }
  if (typeof issuer?.resolve !== 'function') {
    throw new ConfigError(
      'issuer',
      'expected discover(url)',
      'Import discover from "@oauth-interceptors/core/discovery".',
    )
  }
  return { tokenUrl: issuer.issuer, issuer }
}

function toForm(members: Record<string, BodyValue>): string {
  const form = new URLSearchParams()
  for (const [name, value] of Object.entries(members)) {
    for (const item of typeof value === 'string' ? [value] : value) form.append(name, item)
  }
  return form.toString()
}

/** The grant members of a revocation endpoint: its URL and how to build a request to it. */
export function revocationOf(
  options: ClientOptions,
  client: ClientAuthentication,
): Pick<Grant, 'revocationUrl' | 'revoke'> {
  const url =
    options.revocationUrl === undefined
      ? undefined
      : requireHttpUrl('revocationUrl', options.revocationUrl, options.allowInsecureHttp)
  // With an issuer, the metadata's revocation_endpoint serves unless revocationUrl is set.
  if (url === undefined && !options.issuer) return {}
  return {
    ...(url !== undefined && { revocationUrl: url }),
    revoke: (token, hint, context) =>
      client.request(url, { token, token_type_hint: hint }, { revocation: true }, context),
  }
}

export function issuerOf(options: { issuer?: Issuer | undefined }): Issuer | undefined {
  return options?.issuer
}

export function issuerMember(options: { issuer?: Issuer | undefined }): Pick<Grant, 'issuer'> {
  return options.issuer ? { issuer: options.issuer.issuer } : {}
}

export function paramMembers(params: ResolvedParams): Record<string, BodyValue | undefined> {
  return { scope: params.scope, audience: params.audience, resource: params.resource }
}

/** Reads a standard RFC 6749 §5.1 response body. */
export function parseStandardResponse(body: Record<string, unknown>): TokenResponse {
  return {
    accessToken: body.access_token as string,
    tokenType: typeof body.token_type === 'string' ? body.token_type : undefined,
    expiresIn: body.expires_in as number | string | undefined,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  }
}

/**
 * The client credentials grant (RFC 6749 §4.4): a service authenticates as itself.
 * There is no refresh token; "refresh" runs the grant again.
 * @example
 * clientCredentials({ tokenUrl: 'https://auth.example.com/oauth/token',
 *   clientId: 'svc', clientSecret: process.env.CLIENT_SECRET, scope: 'orders:read' })
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export function clientCredentials(options: ClientOptions): Grant {
  const client = new ClientAuthentication(options, 'clientCredentials')
  const tokenUrl = client.tokenUrl
  const url = issuerOf(options) ? undefined : tokenUrl
  return {
    type: 'client_credentials',
    tokenUrl,
    ...issuerMember(options),
    identity: client.identity,
    params: resolveParams(options),
    reobtainAfterRefreshFailure: true,
    obtain: (params, context) =>
      client.request(
        url,
        { grant_type: 'client_credentials', ...paramMembers(params) },
        {},
        context,
      ),
    parse: parseStandardResponse,
    secrets: () => client.secrets(),
    ...revocationOf(options, client),
    fetch: client.fetch,
  }
}

/**
 * Options of {@link passwordGrant}: the client options plus the resource owner's credentials.
 * @example
 * { tokenUrl, clientId: 'legacy-app', username: 'ada', password: process.env.API_PASSWORD }
 */
export interface PasswordGrantOptions extends Omit<ClientOptions, 'clientAuth'> {
  /** The resource owner's user name; part of the cache key, so users never share a token. */
  username: string
  /** The resource owner's password. Never logged, never in an event. */
  password: string
  /**
   * How the client authenticates at the token endpoint (see {@link ClientOptions.clientAuth}).
   * @default 'client_secret_basic' with a secret, else 'none'
   */
  clientAuth?: ClientAuth | ClientAssertion | ClientCertificateAuth | undefined
}

/**
 * The resource owner password grant (RFC 6749 §4.3). **Legacy**: RFC 9700 §2.4 says it
 * MUST NOT be used; it is here, as an explicit opt-in, for APIs that still require it.
 * Uses the refresh token when the server issues one and logs in again when that fails.
 * `clientAuth: 'client_secret_json'` sends a JSON body.
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.4
 */
export function passwordGrant(options: PasswordGrantOptions): Grant {
  const tokenUrl = endpointOf(options).tokenUrl
  const url = issuerOf(options) ? undefined : tokenUrl
  const username = requireString(
    'username',
    options.username,
    'passwordGrant() needs the user name to log in with.',
  )
  const password = requireString(
    'password',
    options.password,
    'passwordGrant() needs the password to log in with.',
  )
  const client = new ClientAuthentication(options, 'passwordGrant')
  return {
    type: 'password',
    tokenUrl,
    ...issuerMember(options),
    identity: [...client.identity, username],
    params: resolveParams(options),
    reobtainAfterRefreshFailure: true,
    obtain: (params, context) =>
      client.request(
        url,
        { grant_type: 'password', username, password, ...paramMembers(params) },
        {},
        context,
      ),
    refresh: (refreshToken, params, context) =>
      client.request(
        url,
        { grant_type: 'refresh_token', refresh_token: refreshToken, scope: params.scope },
        {},
        context,
      ),
    parse: parseStandardResponse,
    secrets: () => [...client.secrets(), password],
    ...revocationOf(options, client),
    fetch: client.fetch,
  }
}

/**
 * Options of {@link refreshTokenGrant}: the client options plus the refresh token to start from.
 * @example
 * { tokenUrl, clientId: 'web-app', refreshToken: session.refreshToken, identity: [session.userId] }
 */
export interface RefreshTokenGrantOptions extends ClientOptions {
  /** The refresh token to start from. Rotated tokens replace it as they arrive. */
  refreshToken: string
  /**
   * Who the tokens belong to (e.g. a user id), so that a shared store keeps sessions apart.
   * @default the client, and a fingerprint of the starting refresh token
   */
  identity?: readonly string[] | undefined
}

/**
 * The refresh token grant (RFC 6749 §6) from a refresh token you already hold. With rotation
 * the newest refresh token is used next; a response without one keeps the old one.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export function refreshTokenGrant(options: RefreshTokenGrantOptions): Grant {
  const tokenUrl = endpointOf(options).tokenUrl
  const url = issuerOf(options) ? undefined : tokenUrl
  const initial = requireString(
    'refreshToken',
    options.refreshToken,
    'refreshTokenGrant() needs the refresh token to start from.',
  )
  const client = new ClientAuthentication(options, 'refreshTokenGrant')
  const refresh = (
    refreshToken: string,
    params: ResolvedParams,
    context?: DiscoveryContext,
  ): MaybePromise<TokenRequest> =>
    client.request(
      url,
      { grant_type: 'refresh_token', refresh_token: refreshToken, scope: params.scope },
      {},
      context,
    )
  return {
    type: 'refresh_token',
    tokenUrl,
    ...issuerMember(options),
    // Each starting refresh token is its own session (another user's, perhaps).
    identity: options.identity ?? [...client.identity, fingerprint(initial)],
    params: resolveParams(options),
    reobtainAfterRefreshFailure: false,
    obtain: (params, context) => refresh(initial, params, context),
    refresh,
    parse: parseStandardResponse,
    secrets: () => [...client.secrets(), initial],
    ...revocationOf(options, client),
    fetch: client.fetch,
    startingRefreshToken: () => initial,
  }
}

/** A request described by a `customGrant`: JSON, form or a raw body, POSTed. */
export interface CustomTokenRequest {
  /** @default the grant's tokenUrl */
  url?: string | undefined
  /** Extra request headers, any case; `accept: application/json` is added. @default {} */
  headers?: Record<string, string> | undefined
  /** A value sent as a JSON body, with `content-type: application/json` unless set. */
  json?: unknown
  /** Members sent form-urlencoded; a list repeats the member, `undefined` leaves it out. */
  form?: Record<string, string | readonly string[] | undefined> | undefined
  /** A body sent as is; set `content-type` in `headers`. */
  body?: string | undefined
}

/**
 * Options of {@link customGrant}: how to ask a non-standard endpoint for a token, and how to
 * read its answer.
 * @example
 * { tokenUrl: 'https://api.example.com/auth/login',
 *   request: () => ({ json: { username, password } }), identity: [username] }
 */
export interface CustomGrantOptions {
  /** Absolute URL of the login or token endpoint. */
  tokenUrl?: string | undefined
  /**
   * The authorization server, in place of `tokenUrl`: `discover(issuer)` from
   * `@oauth-interceptors/core/discovery`; its `token_endpoint` is the requests' default `url`,
   * its `revocation_endpoint` the default `revocationUrl`.
   * @default none
   */
  issuer?: Issuer | undefined
  /**
   * Builds the request that obtains a token (a login, an API-key exchange…). If it throws, the
   * token request fails with a `TokenEndpointError` of code `custom_grant_error`, the thrown
   * value as `cause`; so do `refresh` and `parse`.
   */
  request: (params: ResolvedParams) => MaybePromise<CustomTokenRequest>
  /** Builds the request that uses a refresh token; when it fails, `request` runs again. */
  refresh?:
    | ((refreshToken: string, params: ResolvedParams) => MaybePromise<CustomTokenRequest>)
    | undefined
  /** Reads a successful response body. @default the standard `access_token`/`expires_in` members */
  parse?: ((body: Record<string, unknown>) => TokenResponse) | undefined
  /**
   * What distinguishes this grant's tokens from others at the same URL, e.g. `[username]`;
   * `[]` when every token it gets is interchangeable. Required with a shared `store`, which
   * would otherwise hand one user's token to another.
   * @default undefined: tokens stay in this manager's memory
   */
  identity?: readonly string[] | undefined
  /** Accept a plain `http://` endpoint that is not on loopback. @default false */
  allowInsecureHttp?: boolean | undefined
  /**
   * Absolute URL of the revocation endpoint (RFC 7009), for `manager.revoke()`.
   * @default none: `revoke()` is a `ConfigError`
   */
  revocationUrl?: string | undefined
  /**
   * Builds the revocation request of `token`, e.g. to add your client authentication; its `url`
   * defaults to `revocationUrl`. If it throws, revoking that token fails with code
   * `custom_grant_error`.
   * @default a form POST of `token` and `token_type_hint` without client authentication
   */
  revoke?: ((token: string, hint: TokenTypeHint) => MaybePromise<CustomTokenRequest>) | undefined
  /**
   * Credentials your `request`/`refresh` use that the manager cannot see in the request, e.g. a
   * signing key or an API key sent inside a raw body: they are replaced by `[redacted]` in any
   * server text that reaches an error or event. Not needed for what the request carries in an
   * `Authorization` header or in members named like credentials (`password`, `client_secret`,
   * `*_token`, `api_key`…), nor for tokens the manager received.
   * @default []
   */
  secrets?: readonly string[] | undefined
  /** Scope asked for; `getToken()` may override it. @default none */
  scope?: TokenParams['scope']
  /** Audience asked for; `getToken()` may override it. @default none */
  audience?: TokenParams['audience']
  /** RFC 8707 resource indicators; `getToken()` may override them. @default none */
  resource?: TokenParams['resource']
}

/**
 * Any token endpoint: you build the request and read the response.
 * @example A JSON login answering a nested token, with refresh:
 * customGrant({
 *   tokenUrl: 'https://api.example.com/auth/login',
 *   request: () => ({ json: { username, password } }),
 *   refresh: (refreshToken) => ({ url: 'https://api.example.com/auth/refresh', json: { refresh_token: refreshToken } }),
 *   parse: (body) => {
 *     const token = body.access_token as { token: string; token_type: string; expires_in: number }
 *     return { accessToken: token.token, tokenType: token.token_type, expiresIn: token.expires_in,
 *       refreshToken: body.refresh_token as string }
 *   },
 * })
 */
export function customGrant(options: CustomGrantOptions): Grant {
  const { tokenUrl, issuer } = endpointOf(options)
  if (typeof options.request !== 'function') {
    throw new ConfigError(
      'request',
      'expected a function',
      'Pass request: (params) => ({ json: {...} }) that builds the token request.',
    )
  }
  const toRequest = (
    { url: given, headers = {}, json, form, body }: CustomTokenRequest,
    defaultUrl: string,
  ): TokenRequest => {
    const url = given ?? defaultUrl
    const lower: Record<string, string> = { accept: 'application/json' }
    for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
    if (json !== undefined) {
      lower['content-type'] ??= 'application/json'
      return { url, headers: lower, body: JSON.stringify(json) }
    }
    if (form !== undefined) {
      lower['content-type'] ??= 'application/x-www-form-urlencoded'
      const members: Record<string, BodyValue> = {}
      for (const [name, value] of Object.entries(form))
        if (value !== undefined) members[name] = value
      return { url, headers: lower, body: toForm(members) }
    }
    return { url, headers: lower, body: body ?? '' }
  }
  const declared = [...(options.secrets ?? [])]
  // The last request of each kind, kept by reference and read only on an error path: a refresh
  // that fails may echo the password or client secret the login request sent.
  const sent: Partial<Record<'request' | 'refresh', TokenRequest>> = {}
  const secrets = () => [
    ...declared,
    ...requestSecrets(sent.request),
    ...requestSecrets(sent.refresh),
  ]
  // Your code throwing is not the server's fault: its own code, not invalid_response.
  const build = async (
    step: 'request' | 'refresh',
    custom: () => MaybePromise<CustomTokenRequest>,
    context: DiscoveryContext | undefined,
    refreshToken?: string,
  ): Promise<TokenRequest> => {
    // Discovery fails with its own error, before the grant's code runs.
    const defaultUrl = issuer
      ? (await issuer.resolve(context, { revocation: false })).url
      : tokenUrl
    try {
      const request = toRequest(await custom(), defaultUrl)
      sent[step] = request
      return request
    } catch (cause) {
      throw customGrantError(
        `The custom grant's ${step}() failed`,
        cause,
        redactor([...secrets(), refreshToken]),
      )
    }
  }
  const { refresh, parse } = options
  const revocationUrl =
    options.revocationUrl === undefined
      ? undefined
      : requireHttpUrl('revocationUrl', options.revocationUrl, options.allowInsecureHttp)
  const customRevoke =
    options.revoke ??
    ((token: string, hint: TokenTypeHint) => ({ form: { token, token_type_hint: hint } }))
  return {
    type: 'custom',
    tokenUrl,
    ...(issuer && { issuer: issuer.issuer }),
    ...(revocationUrl !== undefined && { revocationUrl }),
    ...((revocationUrl !== undefined || issuer) && {
      revoke: async (token: string, hint: TokenTypeHint, context?: DiscoveryContext) => {
        const target =
          revocationUrl ?? (await (issuer as Issuer).resolve(context, { revocation: true })).url
        let custom: CustomTokenRequest
        try {
          custom = await customRevoke(token, hint)
        } catch (cause) {
          throw customGrantError(
            "The custom grant's revoke() failed",
            cause,
            redactor([...secrets(), token]),
          )
        }
        return toRequest(custom, target)
      },
    }),
    identity: options.identity,
    params: resolveParams(options),
    reobtainAfterRefreshFailure: true,
    obtain: (params, context) => build('request', () => options.request(params), context),
    ...(refresh && {
      refresh: (refreshToken, params, context) =>
        build('refresh', () => refresh(refreshToken, params), context, refreshToken),
    }),
    parse: parse
      ? (body) => {
          try {
            return parse(body)
          } catch (cause) {
            throw customGrantError("The custom grant's parse() failed", cause)
          }
        }
      : parseStandardResponse,
    secrets,
  }
}

/**
 * A grant's own code threw. The message names the step only: what the code threw may hold a
 * credential, so it stays in `cause`, which `toJSON` leaves out, with the secrets `redact`
 * knows replaced in its text (`util.inspect` prints cause chains).
 */
export function customGrantError(
  message: string,
  cause: unknown,
  redact?: Redact,
): TokenEndpointError {
  return new TokenEndpointError(message, 'custom_grant_error', {
    cause: redact ? redactValue(cause, redact) : cause,
  })
}
