import { createTokenManager, LoginRequiredError } from '@oauth-interceptors/core'
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
import { oauthInterceptor } from '@oauth-interceptors/undici'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { Agent, request } from 'undici'

export interface BffConfig extends LoginClient {
  /** The API called on the signed-in user's behalf. */
  apiUrl: string
}

/**
 * A Fastify backend-for-frontend with per-user tokens: `/login` and `/callback` sign the user in
 * and keep their tokens in a `userTokens()` manager under a random session id (the browser gets
 * only the id, in an HttpOnly cookie); `/me/orders` calls the API through undici with
 * `tokenOptions: { session }`; `/logout` ends the session. A session without a usable token
 * answers 401 `login_required`.
 */
export function createBff(config: BffConfig): FastifyInstance {
  const sessions = createTokenManager({
    grant: userTokens({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
    }),
  })
  // One dispatcher for the API: the interceptor adds each request's session token, refreshes it
  // once per session after a 401 and sends the request again.
  const upstream = new Agent().compose(
    oauthInterceptor({ manager: sessions, origins: [new URL(config.apiUrl).origin] }),
  )

  const app = Fastify()
  app.addHook('onClose', () => upstream.close())
  const callbackUrl = (req: FastifyRequest) => `${req.protocol}://${req.host}/callback`
  const loginRequired = { error: 'login_required', login: '/login' }

  app.get('/login', async (req, reply) => {
    const { url, state } = authorizationRequest(config, callbackUrl(req))
    return reply.header('set-cookie', cookie(STATE_COOKIE, state)).redirect(url)
  })

  app.get<{ Querystring: { code?: string; state?: string } }>('/callback', async (req, reply) => {
    const { code, state } = req.query
    const expected = readCookie(req.headers.cookie, STATE_COOKIE)
    if (!code || !state || !expected || state !== expected) {
      return reply.code(400).send({ error: 'invalid_login' })
    }
    const session = crypto.randomUUID()
    await sessions.setSession(session, await exchangeCode(config, code, callbackUrl(req)))
    return reply
      .header('set-cookie', [cookie(STATE_COOKIE, ''), cookie(SESSION_COOKIE, session)])
      .redirect('/')
  })

  app.get('/me/orders', async (req, reply) => {
    const session = readCookie(req.headers.cookie, SESSION_COOKIE)
    if (!session) return reply.code(401).send(loginRequired)
    const query = new URL(req.url, 'http://bff').search
    try {
      const response = await request(new URL(`/orders${query}`, config.apiUrl), {
        dispatcher: upstream,
        signal: AbortSignal.timeout(10_000),
        // undici hands its options on to the dispatcher, where oauthInterceptor reads this.
        tokenOptions: { session },
      } as Parameters<typeof request>[1])
      return reply
        .code(response.statusCode)
        .type(String(response.headers['content-type'] ?? 'application/json'))
        .send(await response.body.text())
    } catch (error) {
      if (error instanceof LoginRequiredError) return reply.code(401).send(loginRequired)
      throw error
    }
  })

  app.post('/logout', async (req, reply) => {
    const session = readCookie(req.headers.cookie, SESSION_COOKIE)
    if (session) await sessions.endSession(session)
    return reply.header('set-cookie', cookie(SESSION_COOKIE, '')).code(204).send()
  })

  return app
}
