import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { listenAsync, parseBody, readBody, sendJson } from './listen'
import type { SeenRequest } from './provider-behaviours'

/** The client a BFF logs its users in with. */
export const LOGIN_CLIENT = { clientId: 'web-bff', clientSecret: 'web-bff-demo-secret' } as const

export interface UserLoginServerOptions {
  /** `expires_in` of issued access tokens, in seconds. @default 3600 */
  expiresIn?: number
  port?: number
}

/** One token issued to a user, as the server holds it. */
export interface IssuedUserToken {
  user: string
  accessToken: string
  refreshToken: string
}

export interface UserLoginServer {
  /** `http://127.0.0.1:<port>`: the authorization server and the API it protects. */
  readonly url: string
  /** The authorization endpoint: `GET /authorize`, approved at once for `login_hint` (or `demo-user`). */
  readonly authorizeUrl: string
  /** The token endpoint: `authorization_code` and (rotating) `refresh_token` grants. */
  readonly tokenUrl: string
  /** The API's origin (the same server): any other path, for a valid access token. */
  readonly apiUrl: string
  readonly clientId: string
  readonly clientSecret: string
  /** Requests to the token endpoint, in order, each with its parsed form. */
  readonly tokenRequests: readonly (SeenRequest & { form: Record<string, string> })[]
  /** Requests to the API, in order. */
  readonly apiRequests: readonly SeenRequest[]
  /** Every token set issued, in order (logins and refreshes). */
  readonly issued: readonly IssuedUserToken[]
  /** The refresh-token grants received, as `[user, refresh token sent]`. */
  refreshes(): { user: string | undefined; refreshToken: string }[]
  /** Makes every access token issued so far be rejected by the API, as expiry would. */
  expireAccessTokens(): void
  /** Makes every refresh token issued so far be refused (`invalid_grant`), as revocation would. */
  revokeRefreshTokens(): void
  /** Forgets recorded requests (tokens stay as they are). */
  clearRecords(): void
  close(): Promise<void>
}

/** `[id, secret]` of an HTTP Basic header, form-decoded (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'))
  return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))]
}

/**
 * A small authorization server for BFF logins, with the API it protects on the same origin: the
 * authorization-code flow (RFC 6749 §4.1) approved at once for the user named by `login_hint`,
 * refresh tokens that rotate (the old one is refused once used), and an API that answers
 * `{ ok, user, method, path, body }` for a valid token and 401 + `WWW-Authenticate: Bearer
 * error="invalid_token"` otherwise. The client is `LOGIN_CLIENT`, authenticated with HTTP Basic
 * or in the body. Everything it received is recorded, so tests assert what the BFF sent.
 */
export async function startUserLoginServer(
  options: UserLoginServerOptions = {},
): Promise<UserLoginServer> {
  const expiresIn = options.expiresIn ?? 3600
  const codes = new Map<string, { user: string; redirectUri: string }>()
  const accessTokens = new Map<string, { user: string; valid: boolean }>()
  const refreshTokens = new Map<string, { user: string; valid: boolean }>()
  const tokenRequests: (SeenRequest & { form: Record<string, string> })[] = []
  const apiRequests: SeenRequest[] = []
  const issued: IssuedUserToken[] = []
  const random = () => randomBytes(24).toString('base64url')

  const issue = (user: string) => {
    const set = { user, accessToken: random(), refreshToken: random() }
    accessTokens.set(set.accessToken, { user, valid: true })
    refreshTokens.set(set.refreshToken, { user, valid: true })
    issued.push(set)
    return {
      access_token: set.accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: set.refreshToken,
      scope: 'orders:read',
    }
  }

  const token = (request: IncomingMessage, form: Record<string, string>): [number, unknown] => {
    const basic = basicCredentials(request.headers.authorization)
    const [id, secret] = basic ?? [form.client_id, form.client_secret]
    if (id !== LOGIN_CLIENT.clientId || secret !== LOGIN_CLIENT.clientSecret) {
      return [401, { error: 'invalid_client' }]
    }
    if (form.grant_type === 'authorization_code') {
      const code = codes.get(form.code ?? '')
      codes.delete(form.code ?? '')
      if (!code || code.redirectUri !== form.redirect_uri) return [400, { error: 'invalid_grant' }]
      return [200, issue(code.user)]
    }
    if (form.grant_type === 'refresh_token') {
      const held = refreshTokens.get(form.refresh_token ?? '')
      if (!held?.valid) {
        return [400, { error: 'invalid_grant', error_description: 'Refresh token not valid' }]
      }
      held.valid = false // rotation: each refresh token is used once
      return [200, issue(held.user)]
    }
    return [400, { error: 'unsupported_grant_type' }]
  }

  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request)
    const url = new URL(request.url ?? '/', 'http://localhost')
    const seen = {
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: { ...request.headers },
      body,
    }
    if (url.pathname === '/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri')
      if (
        url.searchParams.get('response_type') !== 'code' ||
        url.searchParams.get('client_id') !== LOGIN_CLIENT.clientId ||
        !redirectUri
      ) {
        return sendJson(response, 400, { error: 'invalid_request' })
      }
      const code = random()
      codes.set(code, { user: url.searchParams.get('login_hint') ?? 'demo-user', redirectUri })
      const back = new URL(redirectUri)
      back.searchParams.set('code', code)
      const state = url.searchParams.get('state')
      if (state) back.searchParams.set('state', state)
      response.writeHead(302, { location: back.href, 'content-length': 0 }).end()
      return
    }
    if (url.pathname === '/oauth/token') {
      const form = (parseBody(request.headers['content-type'], body) ?? {}) as Record<
        string,
        string
      >
      tokenRequests.push({ ...seen, form })
      if (request.method !== 'POST') return sendJson(response, 405, { error: 'invalid_request' })
      const [status, payload] = token(request, form)
      return sendJson(response, status, payload)
    }
    apiRequests.push(seen)
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]
    const held = bearer ? accessTokens.get(bearer) : undefined
    if (!held?.valid) {
      return sendJson(
        response,
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      )
    }
    sendJson(response, 200, {
      ok: true,
      user: held.user,
      method: seen.method,
      path: seen.path,
      body,
    })
  }

  const running = await listenAsync('login server', handler, options.port)

  return {
    url: running.url,
    authorizeUrl: `${running.url}/authorize`,
    tokenUrl: `${running.url}/oauth/token`,
    apiUrl: running.url,
    ...LOGIN_CLIENT,
    tokenRequests,
    apiRequests,
    issued,
    refreshes: () =>
      tokenRequests
        .filter((seen) => seen.form.grant_type === 'refresh_token')
        .map((seen) => ({
          user: issued.find((set) => set.refreshToken === seen.form.refresh_token)?.user,
          refreshToken: seen.form.refresh_token ?? '',
        })),
    expireAccessTokens() {
      for (const held of accessTokens.values()) held.valid = false
    },
    revokeRefreshTokens() {
      for (const held of refreshTokens.values()) held.valid = false
    },
    clearRecords() {
      tokenRequests.length = 0
      apiRequests.length = 0
    },
    close: () => running.close(),
  }
}

/**
 * What a user's browser does with a BFF, printed as it goes: log in at `bff` (the login server
 * approves at once), call `/me/orders` with the session cookie, log out, call again.
 */
export async function visitAsBrowser(bff: string): Promise<void> {
  const started = await fetch(`${bff}/login`, { redirect: 'manual' })
  const approved = await fetch(started.headers.get('location') ?? '', { redirect: 'manual' })
  const callback = await fetch(approved.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: {
      cookie: started.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
    },
  })
  const session = callback.headers.getSetCookie().find((c) => c.startsWith('sid='))
  const headers = { cookie: session?.split(';')[0] ?? '' }
  const orders = await fetch(`${bff}/me/orders?status=open`, { headers })
  console.log('signed in:', orders.status, await orders.text())
  await fetch(`${bff}/logout`, { method: 'POST', headers })
  const after = await fetch(`${bff}/me/orders`, { headers })
  console.log('after logout:', after.status, await after.text())
}

/** The environment the BFF examples read their login client and API from, for `login`. */
export function bffEnvironment(login: UserLoginServer): Record<string, string> {
  return {
    BFF_AUTHORIZE_URL: login.authorizeUrl,
    BFF_TOKEN_URL: login.tokenUrl,
    BFF_CLIENT_ID: login.clientId,
    BFF_CLIENT_SECRET: login.clientSecret,
    BFF_API_URL: login.apiUrl,
  }
}
