import {
  clientCredentials,
  createTokenManager,
  isOAuthInterceptorsError,
  LoginRequiredError,
} from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import {
  authorizationRequest,
  cookie,
  exchangeCode,
  type LoginClient,
  readCookie,
  SESSION_COOKIE,
  STATE_COOKIE,
} from '@oauth-interceptors/example-bff-login'
import { oauthFetch } from '@oauth-interceptors/fetch'
import express, { type Express, type Request, type Response } from 'express'

export interface BffConfig {
  /** The upstream API, e.g. `https://api.internal.example.com`. */
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
  /** Per-user calls: where users log in, and the API called with each user's own token. */
  users?: UserApiConfig
}

export interface UserApiConfig extends LoginClient {
  /** The API called on the signed-in user's behalf. */
  apiUrl: string
}

/** Request headers passed on to the upstream; the browser's cookies and credentials are not. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'if-none-match']
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified']

/**
 * A backend-for-frontend: the browser calls `/api/*` on the BFF's own origin, and the BFF
 * forwards the call to the upstream API with the service's token. One token manager serves every
 * route, so all of them share one cached token and one token request per refresh.
 */
export function createBff(config: BffConfig): Express {
  const tokens = createTokenManager({
    grant: clientCredentials({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.resource && { resource: config.resource }),
    }),
  })
  const upstream = oauthFetch(tokens, { baseUrl: config.apiUrl })
  const origin = new URL(config.apiUrl).origin

  const app = express()
  app.disable('x-powered-by')

  // Buffered (up to 1 MB) so that a retry after a 401 can send the body again.
  app.use('/api', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    // Joined as text, so `/api//other.example/x` stays on the upstream's origin.
    const url = new URL(`${origin}${req.url}`)
    const headers = new Headers()
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.get(name)
      if (value) headers.set(name, value)
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && Buffer.isBuffer(req.body)
    const response = await upstream(url, {
      method: req.method,
      headers,
      ...(hasBody && { body: new Uint8Array(req.body as Buffer) }),
      signal: AbortSignal.timeout(10_000),
    })
    await relay(response, res)
  })

  // Another route on the same manager: two upstream calls, still one token between them.
  app.get('/dashboard', async (_req, res) => {
    const [orders, stock] = await Promise.all(
      ['/orders?status=open', '/stock'].map(async (path) => {
        const response = await upstream(new URL(path, origin))
        if (!response.ok) throw new Error(`Upstream answered ${response.status} for ${path}`)
        return response.json() as Promise<unknown>
      }),
    )
    res.json({ orders, stock })
  })

  if (config.users) userRoutes(app, config.users)

  // Token counters for monitoring; they carry no secret.
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, tokens: tokens.stats() })
  })

  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    if (isOAuthInterceptorsError(error)) {
      // The BFF could not get a token: a server-side problem. The error holds no secret.
      res.status(503).json({ error: 'upstream_auth_failed', code: error.code })
    } else {
      res.status(502).json({ error: 'bad_gateway' })
    }
  })
  return app
}

/**
 * Per-user tokens: `/login` and `/callback` log the user in (authorization code) and keep their
 * tokens in a `userTokens()` manager under a random session id, the only thing the browser gets
 * (an HttpOnly cookie). `/me/orders` calls the API with that session's token; a session without
 * a usable token (never logged in, logged out, refresh token refused) answers 401 with where to
 * log in. `/logout` ends the session.
 */
function userRoutes(app: Express, users: UserApiConfig): void {
  const sessions = createTokenManager({
    grant: userTokens({
      tokenUrl: users.tokenUrl,
      clientId: users.clientId,
      clientSecret: users.clientSecret,
    }),
  })
  const userApi = oauthFetch(sessions, { baseUrl: users.apiUrl })
  const callbackUrl = (req: Request) => `${req.protocol}://${req.get('host')}/callback`

  app.get('/login', (req, res) => {
    const { url, state } = authorizationRequest(users, callbackUrl(req))
    res.setHeader('set-cookie', cookie(STATE_COOKIE, state)).redirect(url)
  })

  app.get('/callback', async (req, res) => {
    const { code, state } = req.query
    const expected = readCookie(req.get('cookie'), STATE_COOKIE)
    if (typeof code !== 'string' || typeof state !== 'string' || !expected || state !== expected) {
      res.status(400).json({ error: 'invalid_login' })
      return
    }
    const login = await exchangeCode(users, code, callbackUrl(req))
    const session = crypto.randomUUID()
    await sessions.setSession(session, login)
    res
      .setHeader('set-cookie', [cookie(STATE_COOKIE, ''), cookie(SESSION_COOKIE, session)])
      .redirect('/')
  })

  app.get('/me/orders', async (req, res) => {
    const session = readCookie(req.get('cookie'), SESSION_COOKIE)
    if (!session) {
      res.status(401).json({ error: 'login_required', login: '/login' })
      return
    }
    const query = new URL(req.url, 'http://bff').search
    try {
      const response = await userApi(new URL(`/orders${query}`, users.apiUrl), {
        tokenOptions: { session },
        signal: AbortSignal.timeout(10_000),
      })
      await relay(response, res)
    } catch (error) {
      if (!(error instanceof LoginRequiredError)) throw error
      res.status(401).json({ error: 'login_required', login: '/login' })
    }
  })

  app.post('/logout', async (req, res) => {
    const session = readCookie(req.get('cookie'), SESSION_COOKIE)
    if (session) await sessions.endSession(session)
    res.setHeader('set-cookie', cookie(SESSION_COOKIE, '')).status(204).end()
  })
}

async function relay(from: globalThis.Response, to: Response): Promise<void> {
  to.status(from.status)
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = from.headers.get(name)
    if (value) to.setHeader(name, value)
  }
  to.send(Buffer.from(await from.arrayBuffer()))
}
