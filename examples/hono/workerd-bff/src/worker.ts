import {
  createTokenManager,
  isOAuthInterceptorsError,
  type TokenManager,
} from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import {
  authorizationRequest,
  bffConfig,
  exchangeCode,
  SESSION_COOKIE,
  STATE_COOKIE,
} from '@oauth-interceptors/example-bff-login'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'

/**
 * The worker's bindings: the login client and the API called on the user's behalf. A type, not
 * an interface, so that bffConfig() takes it as a record of strings.
 */
export type Bindings = {
  BFF_AUTHORIZE_URL: string
  BFF_TOKEN_URL: string
  BFF_CLIENT_ID: string
  BFF_CLIENT_SECRET: string
  BFF_API_URL: string
}

interface UserApi {
  tokens: TokenManager
  api: ReturnType<typeof oauthFetch>
}

// Bindings arrive with the first request, so the manager is made then, once per isolate: every
// request of this isolate shares its sessions and their single-flight refreshes.
let created: UserApi | undefined
function userApi(env: Bindings): UserApi {
  if (created) return created
  const tokens = createTokenManager({
    grant: userTokens({
      tokenUrl: env.BFF_TOKEN_URL,
      clientId: env.BFF_CLIENT_ID,
      clientSecret: env.BFF_CLIENT_SECRET,
    }),
  })
  created = { tokens, api: oauthFetch(tokens, { baseUrl: env.BFF_API_URL }) }
  return created
}

const cookieOptions = { path: '/', httpOnly: true, sameSite: 'Lax' } as const
const loginRequired = { error: 'login_required', login: '/login' }

/**
 * The edge BFF: `/login` and `/callback` sign the user in and keep their tokens in a
 * `userTokens()` manager under a random session id (the browser gets only the id, in an HttpOnly
 * cookie); `/me/orders` calls the API with `oauthFetch` and `tokenOptions: { session }`;
 * `/logout` ends the session.
 */
const app = new Hono<{ Bindings: Bindings }>()

app.get('/login', (c) => {
  const { url, state } = authorizationRequest(
    bffConfig(c.env),
    new URL('/callback', c.req.url).href,
  )
  setCookie(c, STATE_COOKIE, state, cookieOptions)
  return c.redirect(url, 302)
})

app.get('/callback', async (c) => {
  const code = c.req.query('code')
  const state = c.req.query('state')
  const expected = getCookie(c, STATE_COOKIE)
  if (!code || !state || !expected || state !== expected) {
    return c.json({ error: 'invalid_login' }, 400)
  }
  const callback = new URL('/callback', c.req.url).href
  const session = crypto.randomUUID()
  const login = await exchangeCode(bffConfig(c.env), code, callback)
  await userApi(c.env).tokens.setSession(session, login)
  deleteCookie(c, STATE_COOKIE, { path: '/' })
  setCookie(c, SESSION_COOKIE, session, cookieOptions)
  return c.redirect('/', 302)
})

app.get('/me/orders', async (c) => {
  const session = getCookie(c, SESSION_COOKIE)
  if (!session) return c.json(loginRequired, 401)
  const { api } = userApi(c.env)
  const query = new URL(c.req.url).search
  try {
    const response = await api(new URL(`/orders${query}`, c.env.BFF_API_URL), {
      tokenOptions: { session },
      signal: AbortSignal.timeout(10_000),
    })
    return new Response(response.body, {
      status: response.status,
      headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' },
    })
  } catch (error) {
    if (isOAuthInterceptorsError(error) && error.code === 'login_required') {
      return c.json(loginRequired, 401)
    }
    throw error
  }
})

app.post('/logout', async (c) => {
  const session = getCookie(c, SESSION_COOKIE)
  if (session) await userApi(c.env).tokens.endSession(session)
  deleteCookie(c, SESSION_COOKIE, { path: '/' })
  return c.body(null, 204)
})

export default app
