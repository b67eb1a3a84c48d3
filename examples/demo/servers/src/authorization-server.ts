import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { exportJWK, generateKeyPair, type JWTPayload, jwtVerify } from 'jose'
import type {
  Adapter,
  AdapterPayload,
  ClientMetadata,
  KoaContextWithOIDC,
  default as Provider,
} from 'oidc-provider'
import { listen, type RunningServer } from './listen'

/** How a registered client authenticates at the token endpoint. */
export type DemoClientAuth = 'client_secret_basic' | 'client_secret_post'

/** A client registered at the embedded authorization server. */
export interface DemoClient {
  readonly clientId: string
  readonly clientSecret: string
  readonly clientAuth: DemoClientAuth
}

/** The format of access tokens issued for a resource indicator (RFC 8707). */
export type TokenFormat = 'jwt' | 'opaque'

/**
 * Resource indicators the server knows. They name the API, not where it listens, so they are
 * the same in every run. JWT tokens are checked by the API against the JWKS; opaque ones by
 * token introspection (RFC 7662), which also sees revocations (RFC 7009).
 */
export const RESOURCES = {
  jwt: 'urn:oauth-interceptors:demo:jwt-api',
  opaque: 'urn:oauth-interceptors:demo:opaque-api',
} as const satisfies Record<TokenFormat, string>

/**
 * Clients registered by default. `reserved` has reserved characters in its id and secret:
 * `client_secret_basic` must form-urlencode both before base64 (RFC 6749 §2.3.1), and
 * oidc-provider rejects credentials that were not.
 */
export const DEMO_CLIENTS = {
  basic: {
    clientId: 'service-basic',
    clientSecret: 'basic-secret-7c1f3b9a2e',
    clientAuth: 'client_secret_basic',
  },
  post: {
    clientId: 'service-post',
    clientSecret: 'post-secret-5d8e2a6c4b',
    clientAuth: 'client_secret_post',
  },
  reserved: {
    clientId: 'service:reserved id',
    clientSecret: ` :%+&~ /?#[]@!$'()*,;="<>\\^{|}`,
    clientAuth: 'client_secret_basic',
  },
} as const satisfies Record<string, DemoClient>

/**
 * The web client users log in at with {@link AuthorizationServer.login} (authorization code
 * with PKCE, `logins: true`): a confidential client whose refresh tokens rotate on every use.
 */
export const WEB_CLIENT = {
  clientId: 'web-bff',
  clientSecret: 'web-bff-secret-4a7d9e2c1b',
  clientAuth: 'client_secret_basic',
} as const satisfies DemoClient

/** One request to the token endpoint, as the server received it. */
export interface TokenRequestRecord {
  /** The authenticated client, when authentication succeeded. */
  clientId: string | undefined
  grantType: string | undefined
  /** `basic` when an `Authorization: Basic` header was sent. */
  authorization: 'basic' | 'none'
  resource: string | undefined
  status: number
  /** `error` of an RFC 6749 §5.2 response. */
  error: string | undefined
  /** The `DPoP` proof header sent (RFC 9449 §4), if any. */
  dpopProof: string | undefined
  /** `token_type` of a successful response. */
  tokenType: string | undefined
  /** The request came to the mTLS listener, named by `mtls_endpoint_aliases` (with `mtls`). */
  viaMtlsAlias: boolean
  /** The SHA-256 thumbprint (`x5t#S256`) of the client certificate presented, if any. */
  clientCertificate: string | undefined
}

/** One request to the revocation endpoint (RFC 7009), as the server received it. */
export interface RevocationRequestRecord {
  /** The authenticated client, when authentication succeeded. */
  clientId: string | undefined
  /** The `token_type_hint` sent. */
  tokenTypeHint: string | undefined
  status: number
  /** The request came to the mTLS listener, named by `mtls_endpoint_aliases` (with `mtls`). */
  viaMtlsAlias: boolean
  /** The SHA-256 thumbprint (`x5t#S256`) of the client certificate presented, if any. */
  clientCertificate: string | undefined
}

/** The server's TLS credentials, for {@link AuthorizationServerOptions.mtls}. */
export interface MtlsServerOptions {
  /** The server certificate (PEM), valid for the IP address 127.0.0.1. */
  readonly cert: string
  /** Its private key (PEM). */
  readonly key: string
  /** The certificate authority (PEM) that issues the certificates of `tls_client_auth` clients. */
  readonly ca: string
}

export interface AuthorizationServerOptions {
  /** Access token lifetime in seconds for every resource. @default 4 */
  accessTokenTTL?: number
  /** Clients to register, besides the resource server's own (for introspection). @default DEMO_CLIENTS */
  clients?: readonly DemoClient[]
  /**
   * More clients, as oidc-provider client metadata, e.g. one with
   * `token_endpoint_auth_method: 'private_key_jwt'` and its public `jwks`. @default none
   */
  extraClients?: readonly ClientMetadata[]
  /** Port to listen on. @default 0 (any free port) */
  port?: number
  /**
   * Accept token exchange (RFC 8693) from clients registered with its grant type: an access
   * token this server issued (JWT or opaque, still valid) as the `subject_token` is exchanged
   * for a token for the requested `resource`, lasting no longer than the subject token.
   * @default false
   */
  tokenExchange?: boolean
  /**
   * DPoP (RFC 9449) with nonces required: a token request without the server's current nonce
   * in its proof is answered `400 use_dpop_nonce` with a `DPoP-Nonce` header, and a token
   * requested with a proof is bound to its key (`cnf.jkt`).
   * @default false
   */
  dpop?: boolean
  /**
   * Users log in at {@link WEB_CLIENT} with the authorization-code flow and PKCE, driven by
   * {@link AuthorizationServer.login} (the interaction answers for the user it names, as a
   * login form would); each login gets a refresh token, which rotates on every use: a refresh
   * token used twice is `invalid_grant`, and ends its grant.
   * @default false
   */
  logins?: boolean
  /**
   * Mutual TLS (RFC 8705): the issuer serves https with these credentials, and a second https
   * listener, which asks for a client certificate, serves the token, revocation and
   * introspection endpoints named by the metadata's `mtls_endpoint_aliases`. Clients may then
   * authenticate with `tls_client_auth` (a certificate issued by `ca` whose subject is the
   * client's `tls_client_auth_subject_dn`) or `self_signed_tls_client_auth` (a certificate
   * registered in the client's `jwks` as `x5c`), and the tokens of clients registered with
   * `tls_client_certificate_bound_access_tokens` are bound to the certificate presented
   * (`cnf.x5t#S256`, RFC 8705 §3).
   * @default none: plain http, no mutual TLS
   */
  mtls?: MtlsServerOptions
}

/** The grant type of token exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** One token exchange the server granted. */
export interface TokenExchangeRecord {
  /** The client that exchanged. */
  clientId: string
  /** The client the subject token was issued to. */
  subjectClientId: string
  /** The `actor_token`'s client, when one was sent. */
  actorClientId: string | undefined
  /** The token issued. */
  issued: string
}

export interface AuthorizationServer {
  /** The issuer, `http://127.0.0.1:<port>`. */
  readonly issuer: string
  readonly tokenUrl: string
  readonly jwksUrl: string
  readonly introspectionUrl: string
  readonly revocationUrl: string
  /** The endpoints of `mtls_endpoint_aliases`, on the listener that asks for a certificate (with `mtls`). */
  readonly mtlsEndpoints:
    | { readonly tokenUrl: string; readonly revocationUrl: string; readonly origin: string }
    | undefined
  /** The client the resource server uses for introspection. */
  readonly introspectionClient: DemoClient
  /** Every token request received, in order. */
  readonly tokenRequests: readonly TokenRequestRecord[]
  /** Every revocation request received, in order. */
  readonly revocationRequests: readonly RevocationRequestRecord[]
  /** Every token exchange granted, in order (with `tokenExchange: true`). */
  readonly tokenExchanges: readonly TokenExchangeRecord[]
  /** Successful token requests of `clientId` (every client when omitted). */
  tokensIssued(clientId?: string): number
  /** The access token last issued to `clientId`. */
  latestToken(clientId: string): string | undefined
  /**
   * Revokes `token` at the revocation endpoint (RFC 7009), as its client would. JWT access
   * tokens cannot be revoked this way (oidc-provider refuses structured tokens); revoke those
   * at the resource server's deny-list.
   */
  revoke(token: string, client: DemoClient, hint?: 'access_token' | 'refresh_token'): Promise<void>
  /**
   * Logs `user` in at {@link WEB_CLIENT} (with `logins: true`): the authorization request, the
   * login and consent interaction, and the code exchange, as a browser and a BFF's callback
   * would do them. Resolves the token endpoint's JSON answer (`access_token`, `refresh_token`,
   * `expires_in`, `id_token`, …) for an opaque access token of `resource`.
   */
  login(user: string, resource?: string): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/**
 * Starts oidc-provider (panva's certified OpenID Connect / OAuth 2.0 server) in-process on
 * 127.0.0.1 with client credentials, resource indicators, introspection and revocation on.
 * Tokens for {@link RESOURCES.jwt} are JWTs signed with a fresh ES256 key; tokens for
 * {@link RESOURCES.opaque} are opaque.
 */
export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<AuthorizationServer> {
  const ttl = options.accessTokenTTL ?? 4
  const clients = options.clients ?? Object.values(DEMO_CLIENTS)
  const introspectionClient: DemoClient = {
    clientId: 'resource-server',
    clientSecret: randomBytes(16).toString('base64url'),
    clientAuth: 'client_secret_basic',
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: 'demo-es256',
    alg: 'ES256',
    use: 'sig',
  }

  // The issuer has the port in it, so listen first and hand requests to the provider once built.
  let handle: ((...args: Parameters<Parameters<typeof listen>[0]>) => void) | undefined
  let interact: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | undefined
  const route: Parameters<typeof listen>[0] = (request, response) => {
    if (interact && request.url?.startsWith('/interaction/')) {
      interact(request, response).catch(() => response.writeHead(500).end())
    } else if (handle) handle(request, response)
    else response.writeHead(503).end()
  }
  const mtls = options.mtls
  const running: RunningServer = await listen(
    route,
    options.port,
    mtls && { cert: mtls.cert, key: mtls.key },
  )
  // A self-signed client certificate fails the handshake's chain check: the provider decides
  // (certificateAuthorized for tls_client_auth, the registered x5c for the self-signed method).
  const alias =
    mtls &&
    (await listen(route, 0, {
      cert: mtls.cert,
      key: mtls.key,
      ca: mtls.ca,
      requestCert: true,
      rejectUnauthorized: false,
    }))
  const aliasPort = alias && new URL(alias.url).port
  const issuer = running.url
  const callbackUrl = `${issuer}/callback`

  const { default: OidcProvider, errors } = await loadOidcProvider()
  const provider: Provider = new OidcProvider(issuer, {
    adapter: memoryAdapter(),
    clients: [...clients, introspectionClient]
      .map(
        (client): ClientMetadata => ({
          client_id: client.clientId,
          client_secret: client.clientSecret,
          token_endpoint_auth_method: client.clientAuth,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        }),
      )
      .concat(
        (options.extraClients ?? []).map((client) => ({
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          ...client,
        })),
      )
      .concat(
        options.logins
          ? [
              {
                client_id: WEB_CLIENT.clientId,
                client_secret: WEB_CLIENT.clientSecret,
                token_endpoint_auth_method: WEB_CLIENT.clientAuth,
                grant_types: ['authorization_code', 'refresh_token'],
                response_types: ['code'],
                redirect_uris: [callbackUrl],
              },
            ]
          : [],
      ),
    jwks: { keys: [signingKey] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientBasedCORS: () => false,
    ...(options.logins && {
      findAccount: async (_ctx: KoaContextWithOIDC, accountId: string) => ({
        accountId,
        claims: async () => ({ sub: accountId }),
      }),
      // Every login of the web client gets a refresh token, which rotates on every use.
      issueRefreshToken: async () => true,
      rotateRefreshToken: true,
    }),
    features: {
      devInteractions: { enabled: false },
      ...(options.dpop && {
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      }),
      ...(alias && { mTLS: mtlsFeature() }),
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only the resource server may introspect tokens.
        allowedPolicy: async (_ctx, client) => client.clientId === introspectionClient.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCES.jwt,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const info = resourceInfo(indicator, ttl)
          // An unknown resource is an `invalid_target` error (RFC 8707 §2).
          if (!info) throw new errors.InvalidTarget()
          return info
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 3600,
      Interaction: 600,
      IdToken: 3600,
    },
    ...(alias && {
      clientAuthMethods: [
        'none',
        'client_secret_basic',
        'client_secret_jwt',
        'client_secret_post',
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
      ],
      discovery: {
        mtls_endpoint_aliases: {
          token_endpoint: `${alias.url}/token`,
          revocation_endpoint: `${alias.url}/token/revocation`,
          introspection_endpoint: `${alias.url}/token/introspection`,
        },
      },
    }),
  })
  const tokenExchanges: TokenExchangeRecord[] = []
  if (options.tokenExchange) {
    registerTokenExchange(provider, errors, {
      verifyJwt: async (token) => (await jwtVerify(token, publicKey, { issuer })).payload,
      resourceInfo: (indicator) => resourceInfo(indicator, ttl),
      record: (exchange) => tokenExchanges.push(exchange),
    })
  }

  const tokenRequests: TokenRequestRecord[] = []
  const revocationRequests: RevocationRequestRecord[] = []
  const viaMtlsAlias = (ctx: KoaContextWithOIDC) =>
    aliasPort !== undefined && String(ctx.socket.localPort) === aliasPort
  const latest = new Map<string, string>()
  const issued = new Map<string, number>()
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next()
    if (ctx.path === '/token/revocation' && ctx.method === 'POST') {
      const hint = (ctx.oidc?.params as Record<string, unknown> | undefined)?.token_type_hint
      revocationRequests.push({
        clientId: ctx.oidc?.client?.clientId,
        tokenTypeHint: typeof hint === 'string' ? hint : undefined,
        status: ctx.status,
        viaMtlsAlias: viaMtlsAlias(ctx),
        clientCertificate: thumbprint(peerCertificate(ctx.socket)),
      })
    }
    if (ctx.path !== '/token' || ctx.method !== 'POST') return
    const body = (ctx.body ?? {}) as {
      access_token?: unknown
      error?: unknown
      token_type?: unknown
    }
    const params = ctx.oidc?.params as Record<string, unknown> | undefined
    const clientId = ctx.oidc?.client?.clientId
    tokenRequests.push({
      clientId,
      grantType: typeof params?.grant_type === 'string' ? params.grant_type : undefined,
      authorization: /^basic /i.test(ctx.get('authorization')) ? 'basic' : 'none',
      resource: typeof params?.resource === 'string' ? params.resource : undefined,
      status: ctx.status,
      error: typeof body.error === 'string' ? body.error : undefined,
      dpopProof: ctx.get('dpop') || undefined,
      tokenType: typeof body.token_type === 'string' ? body.token_type : undefined,
      viaMtlsAlias: viaMtlsAlias(ctx),
      clientCertificate: thumbprint(peerCertificate(ctx.socket)),
    })
    if (clientId && ctx.status === 200 && typeof body.access_token === 'string') {
      latest.set(clientId, body.access_token)
      issued.set(clientId, (issued.get(clientId) ?? 0) + 1)
    }
  })
  // oidc-provider reports server errors as events; fail loudly in tests rather than silently.
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server_error', error)
  })
  handle = provider.callback()
  if (options.logins) {
    // The login form and consent screen, answered for the user the request names (login_hint).
    interact = async (request, response) => {
      const details = await provider.interactionDetails(request, response)
      const params = details.params as Record<string, string | undefined>
      const accountId = params.login_hint ?? 'user'
      const grant = new provider.Grant({ accountId, clientId: String(params.client_id) })
      grant.addOIDCScope('openid')
      if (params.resource) grant.addResourceScope(params.resource, 'api:read api:write')
      const grantId = await grant.save()
      await provider.interactionFinished(
        request,
        response,
        { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      )
    }
  }

  const revocationUrl = `${issuer}/token/revocation`
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    introspectionUrl: `${issuer}/token/introspection`,
    revocationUrl,
    mtlsEndpoints: alias && {
      tokenUrl: `${alias.url}/token`,
      revocationUrl: `${alias.url}/token/revocation`,
      origin: alias.url,
    },
    introspectionClient,
    tokenRequests,
    revocationRequests,
    tokenExchanges,
    tokensIssued: (clientId) =>
      clientId === undefined
        ? [...issued.values()].reduce((sum, count) => sum + count, 0)
        : (issued.get(clientId) ?? 0),
    latestToken: (clientId) => latest.get(clientId),
    async revoke(token, client, hint = 'access_token') {
      const form = new URLSearchParams({ token, token_type_hint: hint })
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
      }
      if (client.clientAuth === 'client_secret_basic') {
        headers.authorization = basicCredentials(client)
      } else {
        form.set('client_id', client.clientId)
        form.set('client_secret', client.clientSecret)
      }
      const response = await fetch(revocationUrl, { method: 'POST', headers, body: form })
      if (!response.ok) {
        throw new Error(`Revocation failed with HTTP ${response.status}: ${await response.text()}`)
      }
      await response.arrayBuffer().catch(() => undefined)
    },
    login: (user, resource = RESOURCES.opaque) => login(issuer, callbackUrl, user, resource),
    close: async () => {
      await Promise.all([running.close(), alias?.close()])
    },
  }
}

/** The certificate the client presented on `socket`, if it is a TLS socket and one was. */
function peerCertificate(socket: unknown) {
  const tls = socket as Partial<Pick<TLSSocket, 'getPeerX509Certificate'>>
  return tls.getPeerX509Certificate?.()
}

/** A certificate's SHA-256 thumbprint, base64url: its `x5t#S256` (RFC 8705 §3.1). */
function thumbprint(certificate: { raw: Buffer } | undefined): string | undefined {
  return certificate && createHash('sha256').update(certificate.raw).digest('base64url')
}

/**
 * oidc-provider's mTLS feature over Node's TLS socket: the certificate is the one presented in
 * the handshake, "authorized" when it chains to the CA the listener trusts, and a
 * `tls_client_auth_subject_dn` matches the certificate's subject (one RDN per line in Node's
 * notation, joined with commas as RFC 4514 writes them).
 */
function mtlsFeature() {
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: (ctx: KoaContextWithOIDC) => peerCertificate(ctx.socket),
    certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.socket as TLSSocket).authorized,
    certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
      const certificate = peerCertificate(ctx.socket)
      if (!certificate || property !== 'tls_client_auth_subject_dn') return false
      return certificate.subject.split('\n').join(', ') === expected
    },
  }
}

/** The authorization-code flow with PKCE for `user`, as a browser and a BFF callback run it. */
async function login(
  issuer: string,
  callbackUrl: string,
  user: string,
  resource: string,
): Promise<Record<string, unknown>> {
  const verifier = randomBytes(32).toString('base64url')
  let url = `${issuer}/auth?${new URLSearchParams({
    client_id: WEB_CLIENT.clientId,
    response_type: 'code',
    redirect_uri: callbackUrl,
    scope: 'openid',
    resource,
    login_hint: user,
    state: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`
  // The browser's cookies for the issuer; paths are left out (sending more does no harm here).
  const cookies = new Map<string, string>()
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';')
      const at = pair.indexOf('=')
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)]
      if (value === '' || /expires=thu, 01 jan 1970/i.test(cookie)) cookies.delete(name)
      else cookies.set(name, value)
    }
    await response.arrayBuffer()
    const location = response.headers.get('location')
    if (!location)
      throw new Error(`The login of ${user} stopped at HTTP ${response.status} (${url})`)
    const next = new URL(location, url)
    if (next.href.startsWith(callbackUrl)) {
      const code = next.searchParams.get('code')
      if (!code) throw new Error(`The login of ${user} failed: ${next.searchParams.get('error')}`)
      const answer = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: basicCredentials(WEB_CLIENT),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: callbackUrl,
          code_verifier: verifier,
        }),
      })
      const body = (await answer.json()) as Record<string, unknown>
      if (!answer.ok) throw new Error(`The code exchange of ${user} failed: ${String(body.error)}`)
      return body
    }
    url = next.href
  }
  throw new Error(`The login of ${user} did not reach the callback`)
}

/** What oidc-provider is told about each resource indicator; `undefined` for an unknown one. */
function resourceInfo(indicator: string, ttl: number) {
  if (indicator === RESOURCES.jwt) {
    return {
      scope: 'api:read api:write',
      audience: RESOURCES.jwt,
      accessTokenTTL: ttl,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: 'ES256' as const } },
    }
  }
  if (indicator === RESOURCES.opaque) {
    return {
      scope: 'api:read api:write',
      audience: RESOURCES.opaque,
      accessTokenTTL: ttl,
      accessTokenFormat: 'opaque' as const,
    }
  }
  return undefined
}

/**
 * Token exchange (RFC 8693) as a custom grant: the subject token (and the actor token, when
 * sent) must be a valid access token this server issued; the token issued is for the requested
 * resource (default: the JWT API) and expires no later than the subject token.
 */
function registerTokenExchange(
  provider: Provider,
  errors: typeof import('oidc-provider').errors,
  hooks: {
    verifyJwt: (token: string) => Promise<JWTPayload>
    resourceInfo: (indicator: string) => ReturnType<typeof resourceInfo>
    record: (exchange: TokenExchangeRecord) => void
  },
): void {
  const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'
  /** The client a token was issued to and when it expires, or an `invalid_grant`. */
  const inspect = async (token: unknown, type: unknown, name: string) => {
    if (typeof token !== 'string' || token === '') {
      throw new errors.InvalidRequest(`${name} is missing`)
    }
    if (type !== ACCESS) throw new errors.InvalidRequest(`unsupported ${name}_type`)
    if (token.split('.').length === 3) {
      const claims = await hooks.verifyJwt(token).catch(() => {
        throw new errors.InvalidGrant(`${name} is invalid or expired`)
      })
      return { clientId: String(claims.client_id), exp: Number(claims.exp) }
    }
    const found = await provider.ClientCredentials.find(token)
    if (!found || found.isExpired) throw new errors.InvalidGrant(`${name} is invalid or expired`)
    return { clientId: String(found.clientId), exp: Number(found.exp) }
  }
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>
      const client = ctx.oidc.client
      if (!client) throw new errors.InvalidClient()
      const subject = await inspect(
        params.subject_token,
        params.subject_token_type,
        'subject_token',
      )
      const actor =
        params.actor_token === undefined
          ? undefined
          : await inspect(params.actor_token, params.actor_token_type, 'actor_token')
      const indicator = params.resource ?? params.audience ?? RESOURCES.jwt
      const info = hooks.resourceInfo(indicator)
      if (!info) throw new errors.InvalidTarget()
      const now = Math.floor(Date.now() / 1000)
      const expiresIn = Math.max(1, Math.min(info.accessTokenTTL, subject.exp - now))
      // `expiresIn` is a constructor option oidc-provider's types leave out.
      const token = new provider.ClientCredentials({
        client,
        scope: params.scope,
        ...{ expiresIn },
      } as ConstructorParameters<Provider['ClientCredentials']>[0])
      token.resourceServer = new provider.ResourceServer(indicator, info)
      const value = await token.save()
      hooks.record({
        clientId: client.clientId,
        subjectClientId: subject.clientId,
        actorClientId: actor?.clientId,
        issued: value,
      })
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS,
        token_type: 'Bearer',
        expires_in: expiresIn,
        ...(token.scope && { scope: token.scope }),
      }
    },
    [
      'audience',
      'resource',
      'scope',
      'requested_token_type',
      'subject_token',
      'subject_token_type',
      'actor_token',
      'actor_token_type',
    ],
    ['audience', 'resource'],
  )
}

/** `client_secret_basic` credentials (RFC 6749 §2.3.1): form-urlencoded, then base64. */
export function basicCredentials(client: Pick<DemoClient, 'clientId' | 'clientSecret'>): string {
  const encode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1)
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`
}

/**
 * oidc-provider 9 supports Node.js 22 LTS and later and warns once on import on Node.js 20,
 * which this repo supports. The integration suite runs it on Node.js 20 for everything used
 * here (client credentials, resource indicators, JWT and opaque tokens, introspection,
 * revocation), so that one warning is left out; every other warning is printed.
 */
async function loadOidcProvider(): Promise<typeof import('oidc-provider')> {
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].includes('Unsupported runtime'))) warn(...args)
  }
  try {
    return await import('oidc-provider')
  } finally {
    console.warn = warn
  }
}

/**
 * Keeps the provider's tokens in memory for the life of one server, which is what a test or
 * the demo needs (and, being our own, it does not print oidc-provider's warning about its
 * development-only adapter).
 */
function memoryAdapter(): (name: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>()
  return (name) => {
    const key = (id: string) => `${name}:${id}`
    const find = async (id: string) => {
      const entry = entries.get(key(id))
      if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        entries.delete(key(id))
        return undefined
      }
      return entry?.payload
    }
    return {
      async upsert(id, payload, expiresIn) {
        entries.set(key(id), {
          payload,
          expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
        })
      },
      find,
      async findByUid(uid) {
        for (const [id, entry] of entries) {
          if (id.startsWith(`${name}:`) && entry.payload.uid === uid)
            return find(id.slice(name.length + 1))
        }
        return undefined
      },
      async findByUserCode(userCode) {
        for (const [id, entry] of entries) {
          if (id.startsWith(`${name}:`) && entry.payload.userCode === userCode) {
            return find(id.slice(name.length + 1))
          }
        }
        return undefined
      },
      async consume(id) {
        const entry = entries.get(key(id))
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id) {
        entries.delete(key(id))
      },
      async revokeByGrantId(grantId) {
        for (const [id, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(id)
      },
    }
  }
}
