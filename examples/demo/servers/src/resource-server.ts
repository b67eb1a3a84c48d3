import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose'
import { type AuthorizationServer, basicCredentials, RESOURCES } from './authorization-server'
import { listen, readBody, sendJson } from './listen'

/** Counters of one caller (named by its `x-demo-client` header) or of everyone. */
export interface ResourceStats {
  requests: number
  ok: number
  /** 401 answers: no token, or an expired, revoked or foreign one. */
  unauthorized: number
  /** 403 answers: valid token without the scope. */
  forbidden: number
}

/** One request as the API received it. */
export interface ResourceRequestRecord {
  method: string
  path: string
  /** Headers as sent, lower-case names. */
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: string
  status: number
}

export interface ResourceServerOptions {
  /** The resource indicator tokens must be issued for (their `aud`). @default RESOURCES.jwt */
  resource?: string
  /** Keep every request in `requests` (tests); counters are always kept. @default false */
  record?: boolean
  /** Clock for JWT expiry checks, in ms since the epoch. @default Date.now */
  now?: () => number
  port?: number
}

export interface ResourceServer {
  readonly url: string
  readonly resource: string
  /** Every request, when started with `record: true`. */
  readonly requests: readonly ResourceRequestRecord[]
  /** Counters of the caller named `client` in the `x-demo-client` header, or of all. */
  stats(client?: string): ResourceStats
  /**
   * The token of the caller's last successful request (the token it is using now), if the
   * API has been accepting it for at least `minAge` ms.
   */
  lastAccepted(client: string, minAge?: number): string | undefined
  /**
   * Rejects a JWT access token from now on, as a resource server fed by a revocation list
   * would: structured tokens cannot be revoked at oidc-provider's revocation endpoint.
   */
  deny(token: string): void
  reset(): void
  close(): Promise<void>
}

const REALM = 'realm="demo-api"'

/**
 * A protected API. It accepts `Authorization: Bearer <token>` where the token was issued by
 * `authorizationServer` for this resource: a JWT checked against the JWKS (signature, issuer,
 * audience, expiry), or an opaque token checked by introspection (RFC 7662), so a revoked
 * token (RFC 7009) is refused at once. A refused token gets
 * `401` + `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
 *
 * Routes: any path answers `200` with `{ ok, client_id, method, path, body }`;
 * `/admin/*` needs a scope no client is granted and answers `403 insufficient_scope`.
 */
export async function startResourceServer(
  authorizationServer: AuthorizationServer,
  options: ResourceServerOptions = {},
): Promise<ResourceServer> {
  const resource = options.resource ?? RESOURCES.jwt
  const now = options.now ?? Date.now
  const jwks = createRemoteJWKSet(new URL(authorizationServer.jwksUrl))
  const denied = new Set<string>()
  const requests: ResourceRequestRecord[] = []
  const counters = new Map<string, ResourceStats>()
  const accepted = new Map<string, { token: string; since: number }>()
  const introspectionAuth = basicCredentials(authorizationServer.introspectionClient)

  /** The token's client id when the token is valid for this API, else why not. */
  async function validate(token: string): Promise<{ clientId: string; scope: string } | string> {
    if (token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: authorizationServer.issuer,
          audience: resource,
          typ: 'at+jwt',
          currentDate: new Date(now()),
        })
        if (typeof payload.jti === 'string' && denied.has(payload.jti))
          return 'The token is revoked'
        return { clientId: String(payload.client_id), scope: String(payload.scope ?? '') }
      } catch (error) {
        return error instanceof joseErrors.JWTExpired
          ? 'The token is expired'
          : 'The token is invalid'
      }
    }
    const response = await fetch(authorizationServer.introspectionUrl, {
      method: 'POST',
      headers: {
        authorization: introspectionAuth,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    })
    const body = (await response.json()) as {
      active?: boolean
      aud?: string | string[]
      client_id?: string
      scope?: string
    }
    const audiences = typeof body.aud === 'string' ? [body.aud] : (body.aud ?? [])
    if (!body.active) return 'The token is expired or revoked'
    if (!audiences.includes(resource)) return 'The token is for another resource'
    return { clientId: String(body.client_id), scope: body.scope ?? '' }
  }

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    body: string,
    client: string,
  ): Promise<number> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.authorization ?? '')
    if (!match?.[1]) {
      // No credentials: a challenge without an error code (RFC 6750 §3.1).
      sendJson(response, 401, { error: 'unauthorized' }, { 'www-authenticate': `Bearer ${REALM}` })
      return 401
    }
    const result = await validate(match[1])
    if (typeof result === 'string') {
      sendJson(
        response,
        401,
        { error: 'invalid_token', error_description: result },
        {
          'www-authenticate': `Bearer ${REALM}, error="invalid_token", error_description="${result}"`,
        },
      )
      return 401
    }
    if (path.startsWith('/admin')) {
      sendJson(
        response,
        403,
        { error: 'insufficient_scope' },
        {
          'www-authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="api:admin"`,
        },
      )
      return 403
    }
    if (accepted.get(client)?.token !== match[1]) {
      accepted.set(client, { token: match[1], since: performance.now() })
    }
    sendJson(response, 200, {
      ok: true,
      client_id: result.clientId,
      scope: result.scope,
      method: request.method,
      path,
      body,
    })
    return 200
  }

  function count(client: string, status: number): void {
    for (const name of ['*', client]) {
      let stats = counters.get(name)
      if (!stats) {
        stats = { requests: 0, ok: 0, unauthorized: 0, forbidden: 0 }
        counters.set(name, stats)
      }
      stats.requests++
      if (status === 200) stats.ok++
      else if (status === 401) stats.unauthorized++
      else if (status === 403) stats.forbidden++
    }
  }

  const running = await listen(async (request, response) => {
    const body = await readBody(request)
    const header = request.headers['x-demo-client']
    const client = typeof header === 'string' ? header : ''
    await handle(request, response, body, client).then(
      (status) => {
        count(client, status)
        if (options.record) {
          requests.push({
            method: request.method ?? 'GET',
            path: request.url ?? '/',
            headers: { ...request.headers },
            body,
            status,
          })
        }
      },
      (error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { error: 'server_error' })
        console.error('resource server error', error)
      },
    )
  }, options.port)

  return {
    url: running.url,
    resource,
    requests,
    stats: (client) => ({
      ...(counters.get(client ?? '*') ?? { requests: 0, ok: 0, unauthorized: 0, forbidden: 0 }),
    }),
    lastAccepted(client, minAge = 0) {
      const entry = accepted.get(client)
      return entry && performance.now() - entry.since >= minAge ? entry.token : undefined
    },
    deny(token) {
      const { jti } = decodeJwt(token)
      if (typeof jti !== 'string') throw new Error('The token has no jti to deny')
      denied.add(jti)
    },
    reset() {
      requests.length = 0
      counters.clear()
      accepted.clear()
    },
    close: () => running.close(),
  }
}
