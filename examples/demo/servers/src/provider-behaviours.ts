import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { listenAsync, parseBody, readBody, sendJson } from './listen'

/**
 * Small servers that each behave like one kind of real provider (DESIGN.md, "Token endpoints it
 * must handle"): a token or login endpoint and the API it protects, on one origin. Each keeps
 * what it received so tests can assert what clients *sent*, and has controls to make tokens
 * stop working server-side (as expiry or revocation would) without waiting for time to pass.
 */

/** A request as a behaviour server received it. */
export interface SeenRequest {
  method: string
  path: string
  /** Lower-case header names, as Node parses them. */
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: string
}

export interface BehaviourServer {
  /** The origin of both the token endpoint and the API, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** Where tokens are obtained. */
  readonly tokenUrl: string
  /** Requests to the token (and login/refresh) endpoints, in order. */
  readonly tokenRequests: readonly SeenRequest[]
  /** Requests to the API, in order. */
  readonly apiRequests: readonly SeenRequest[]
  /** How many API requests were sent to `path` (to check each was sent at most twice). */
  sends(path: string): number
  /** Makes every token issued so far stop working at the API. */
  revokeAll(): void
  /** Forgets recorded requests (tokens stay valid). */
  clearRecords(): void
  close(): Promise<void>
}

interface Issued {
  expiresAt: number | undefined
  revoked: boolean
}

interface Options {
  /** Clock in ms, shared with the client's `now` so tests can move time. @default Date.now */
  now?: () => number
  port?: number
}

type ApiCheck = (
  request: IncomingMessage,
  tokens: Map<string, Issued>,
  now: number,
) => { status: number; body: unknown; headers?: Record<string, string> } | undefined

/** The plumbing shared by the four behaviours: routing, records, issued tokens. */
async function behaviourServer(
  options: Options,
  tokenPath: string,
  tokenRoutes: Record<
    string,
    (request: IncomingMessage, body: string, issue: (lifetimeMs?: number) => string) => Reply
  >,
  checkApi: ApiCheck,
): Promise<BehaviourServer & { tokens: Map<string, Issued> }> {
  const now = options.now ?? Date.now
  const tokens = new Map<string, Issued>()
  const tokenRequests: SeenRequest[] = []
  const apiRequests: SeenRequest[] = []
  const sends = new Map<string, number>()
  const issue = (lifetimeMs?: number) => {
    const token = randomBytes(24).toString('base64url')
    tokens.set(token, {
      expiresAt: lifetimeMs === undefined ? undefined : now() + lifetimeMs,
      revoked: false,
    })
    return token
  }

  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request)
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const seen = { method: request.method ?? 'GET', path, headers: { ...request.headers }, body }
    const route = tokenRoutes[path]
    if (route) {
      tokenRequests.push(seen)
      if (request.method !== 'POST') return sendJson(response, 405, { error: 'invalid_request' })
      const [status, payload, headers] = route(request, body, issue)
      return sendJson(response, status, payload, headers)
    }
    apiRequests.push(seen)
    sends.set(path, (sends.get(path) ?? 0) + 1)
    const rejected = checkApi(request, tokens, now())
    if (rejected) return sendJson(response, rejected.status, rejected.body, rejected.headers)
    const target =
      path === '/redirect' && new URL(request.url ?? '/', 'http://x').searchParams.get('to')
    if (target) {
      response.writeHead(302, { location: target, 'content-length': 0 }).end()
      return
    }
    sendJson(response, 200, { ok: true, method: seen.method, path, body })
  }
  const running = await listenAsync('behaviour server', handler, options.port)

  return {
    url: running.url,
    tokenUrl: `${running.url}${tokenPath}`,
    tokenRequests,
    apiRequests,
    tokens,
    sends: (path) => sends.get(path) ?? 0,
    revokeAll() {
      for (const issued of tokens.values()) issued.revoked = true
    },
    clearRecords() {
      tokenRequests.length = 0
      apiRequests.length = 0
      sends.clear()
    },
    close: () => running.close(),
  }
}

type Reply = [status: number, body: unknown, headers?: Record<string, string>]

const bearerChallenge = (description: string) => ({
  'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
})

/** `Authorization: Bearer <token>` checked against the issued tokens. */
function bearerApi(request: IncomingMessage, tokens: Map<string, Issued>, now: number) {
  const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
  if (token === undefined) {
    return {
      status: 401,
      body: { error: 'unauthorized' },
      headers: { 'www-authenticate': 'Bearer' },
    }
  }
  const issued = tokens.get(token)
  if (!issued || issued.revoked || (issued.expiresAt !== undefined && now >= issued.expiresAt)) {
    return {
      status: 401,
      body: { error: 'invalid_token' },
      headers: bearerChallenge('The access token is invalid'),
    }
  }
  return undefined
}

/** Decodes `client_secret_basic` credentials: base64, then form-decoding of each half. */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'))
  try {
    return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))]
  } catch {
    return undefined
  }
}

const invalidClient: Reply = [401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic' }]

export interface JsonClientCredentialsOptions extends Options {
  clientId: string
  clientSecret: string
}

/**
 * Behaviour 1 — client credentials in a JSON body, no `expires_in` in the response. The
 * provider documents its tokens as valid for 8 hours and asks clients not to fetch a token per
 * request; the client must be told the lifetime (`defaultLifetime`).
 *
 * `POST /oauth/token` `{"client_id","client_secret","grant_type":"client_credentials"}`
 * → `{"access_token","token_type":"Bearer"}`; the API takes `Authorization: Bearer <token>`.
 */
export function startJsonClientCredentialsServer(
  options: JsonClientCredentialsOptions,
): Promise<BehaviourServer> {
  const lifetime = 8 * 60 * 60 * 1000
  return behaviourServer(
    options,
    '/oauth/token',
    {
      '/oauth/token': (request, text, issue) => {
        const body = parseBody(request.headers['content-type'], text)
        if (!body || !request.headers['content-type']?.startsWith('application/json')) {
          return [415, { error: 'invalid_request', error_description: 'Send a JSON body' }]
        }
        if (body.grant_type !== 'client_credentials') {
          return [400, { error: 'unsupported_grant_type' }]
        }
        if (body.client_id !== options.clientId || body.client_secret !== options.clientSecret) {
          return [401, { error: 'invalid_client' }]
        }
        return [200, { access_token: issue(lifetime), token_type: 'Bearer' }]
      },
    },
    bearerApi,
  )
}

export interface BasicWithClientIdOptions extends Options {
  clientId: string
  clientSecret: string
  apiKey: string
  /** `expires_in` of issued tokens, in seconds. @default 3600 */
  expiresIn?: number
}

/**
 * Behaviour 2 — client credentials with HTTP Basic **and** `client_id` in the form body; the
 * API wants the raw token (`Authorization: <token>`, no scheme) plus an `x-api-key` header.
 * A scheme before the token is refused with 401; a missing or wrong API key with 403.
 */
export function startBasicWithClientIdServer(
  options: BasicWithClientIdOptions,
): Promise<BehaviourServer> {
  const expiresIn = options.expiresIn ?? 3600
  return behaviourServer(
    options,
    '/oauth2/token',
    {
      '/oauth2/token': (request, text, issue) => {
        const body = parseBody(request.headers['content-type'], text)
        if (
          !body ||
          !request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
        ) {
          return [400, { error: 'invalid_request', error_description: 'Send a form body' }]
        }
        const basic = basicCredentials(request.headers.authorization)
        if (!basic || basic[0] !== options.clientId || basic[1] !== options.clientSecret) {
          return invalidClient
        }
        if (body.client_id !== options.clientId) {
          return [400, { error: 'invalid_request', error_description: 'client_id is required' }]
        }
        if ('client_secret' in body) {
          // RFC 6749 §2.3: one authentication method per request.
          return [
            400,
            { error: 'invalid_request', error_description: 'Use one authentication method' },
          ]
        }
        if (body.grant_type !== 'client_credentials')
          return [400, { error: 'unsupported_grant_type' }]
        return [
          200,
          { access_token: issue(expiresIn * 1000), token_type: 'Bearer', expires_in: expiresIn },
        ]
      },
    },
    (request, tokens, now) => {
      if (request.headers['x-api-key'] !== options.apiKey) {
        return { status: 403, body: { message: 'Forbidden: invalid API key' } }
      }
      const token = request.headers.authorization ?? ''
      const issued = tokens.get(token)
      if (
        !issued ||
        issued.revoked ||
        (issued.expiresAt !== undefined && now >= issued.expiresAt)
      ) {
        return { status: 401, body: { message: 'Unauthorized' } }
      }
      return undefined
    },
  )
}

export interface PasswordLoginOptions extends Options {
  username: string
  password: string
  /** `expires_in` of access tokens, in seconds. @default 3600 */
  expiresIn?: number
}

export interface PasswordLoginServer extends BehaviourServer {
  /** `POST` here with `{"refresh_token"}` for a new pair (rotating: the old one stops working). */
  readonly refreshUrl: string
  /** Makes every access token issued so far expired at the API (as the server's clock would). */
  expireAll(): void
  /** Makes every refresh token issued so far unusable, so the client has to log in again. */
  revokeRefreshTokens(): void
}

/**
 * Behaviour 3 — username/password login with a nested response and a refresh endpoint:
 * `POST /auth/login` `{"username","password"}` →
 * `{"access_token":{"token_type":"bearer","token":"…","expires_in":3600},"refresh_token":"…"}`;
 * `POST /auth/refresh` `{"refresh_token"}` → the same shape, with a new refresh token.
 * An expired token is answered `401` with
 * `WWW-Authenticate: Bearer error="invalid_token", error_description="The token is expired"`
 * and `Token-Expired: true`.
 */
export async function startPasswordLoginServer(
  options: PasswordLoginOptions,
): Promise<PasswordLoginServer> {
  const expiresIn = options.expiresIn ?? 3600
  const refreshTokens = new Set<string>()
  const pair = (issue: (lifetimeMs?: number) => string): Reply => {
    const refreshToken = randomBytes(24).toString('base64url')
    refreshTokens.add(refreshToken)
    return [
      200,
      {
        access_token: {
          token_type: 'bearer',
          token: issue(expiresIn * 1000),
          expires_in: expiresIn,
        },
        refresh_token: refreshToken,
      },
    ]
  }
  const expired = new Set<string>()
  const server = await behaviourServer(
    options,
    '/auth/login',
    {
      '/auth/login': (request, text, issue) => {
        const body = parseBody(request.headers['content-type'], text)
        if (body?.username !== options.username || body?.password !== options.password) {
          return [401, { error: 'invalid_credentials', message: 'Wrong user name or password' }]
        }
        return pair(issue)
      },
      '/auth/refresh': (request, text, issue) => {
        const body = parseBody(request.headers['content-type'], text)
        const refreshToken = body?.refresh_token
        if (typeof refreshToken !== 'string' || !refreshTokens.delete(refreshToken)) {
          return [401, { error: 'invalid_grant', message: 'The refresh token is invalid' }]
        }
        return pair(issue)
      },
    },
    (request, tokens, now) => {
      const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
      const issued = token === undefined ? undefined : tokens.get(token)
      if (!token || !issued || issued.revoked) {
        return {
          status: 401,
          body: { message: 'Unauthorized' },
          headers: bearerChallenge('The token is invalid'),
        }
      }
      if (expired.has(token) || (issued.expiresAt !== undefined && now >= issued.expiresAt)) {
        return {
          status: 401,
          body: { message: 'Unauthorized' },
          headers: { ...bearerChallenge('The token is expired'), 'token-expired': 'true' },
        }
      }
      return undefined
    },
  )
  return {
    ...server,
    refreshUrl: `${server.url}/auth/refresh`,
    expireAll() {
      for (const token of server.tokens.keys()) expired.add(token)
    },
    revokeRefreshTokens() {
      refreshTokens.clear()
    },
  }
}

export interface StandardTokenEndpointOptions extends Options {
  clientId: string
  clientSecret: string
  /** `expires_in` of issued tokens, in seconds. @default 3600 */
  expiresIn?: number
}

/**
 * Behaviour 4 — a standard RFC 6749 token endpoint: `POST /oauth/token`, form body, client
 * authenticated with HTTP Basic (RFC 6749 §2.3.1) or `client_id`/`client_secret` in the body,
 * response with `expires_in` (and `token_type` in lower case, which RFC 6749 allows). RFC 6749
 * §5.2 error bodies. The API answers an expired or unknown token with
 * `401` + `WWW-Authenticate: Bearer error="invalid_token"`.
 */
export function startStandardTokenServer(
  options: StandardTokenEndpointOptions,
): Promise<BehaviourServer> {
  const expiresIn = options.expiresIn ?? 3600
  return behaviourServer(
    options,
    '/oauth/token',
    {
      '/oauth/token': (request, text, issue) => {
        const body = parseBody(request.headers['content-type'], text)
        if (
          !body ||
          !request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
        ) {
          return [400, { error: 'invalid_request' }]
        }
        const basic = basicCredentials(request.headers.authorization)
        const inBody = 'client_secret' in body
        if (basic && inBody) {
          return [
            400,
            { error: 'invalid_request', error_description: 'Use one authentication method' },
          ]
        }
        const [id, secret] = basic ?? [body.client_id, body.client_secret]
        if (id !== options.clientId || secret !== options.clientSecret) return invalidClient
        if (body.grant_type !== 'client_credentials')
          return [400, { error: 'unsupported_grant_type' }]
        return [
          200,
          { access_token: issue(expiresIn * 1000), token_type: 'bearer', expires_in: expiresIn },
        ]
      },
    },
    bearerApi,
  )
}
