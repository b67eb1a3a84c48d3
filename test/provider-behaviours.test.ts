import {
  clientCredentials,
  createTokenManager,
  customGrant,
  type TokenManager,
} from '@oauth-interceptors/core'
import {
  type BehaviourServer,
  listen,
  type PasswordLoginServer,
  type RunningServer,
  startBasicWithClientIdServer,
  startJsonClientCredentialsServer,
  startPasswordLoginServer,
  startStandardTokenServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { adapters } from './support/adapters'

// Real servers in one process: generous limits so a busy CI machine does not fail them.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

// The provider behaviours of DESIGN.md, each a small real server on 127.0.0.1. Servers and
// clients share one clock that the tests move, so expiry is tested without waiting.
const HOUR = 60 * 60 * 1000
let time = Date.now()
const now = () => time

const range = (count: number) => Array.from({ length: count }, (_, index) => index)
const statuses = (replies: readonly { status: number }[]) => replies.map((reply) => reply.status)
const ok = (count: number) => range(count).map(() => 200)
const form = (body: string) => Object.fromEntries(new URLSearchParams(body))

/** Most sends of any one path: each request may go out at most twice (first try + one retry). */
const mostSends = (server: BehaviourServer) =>
  Math.max(0, ...new Set(server.apiRequests.map((request) => server.sends(request.path))))

let json: BehaviourServer
let basic: BehaviourServer
let login: PasswordLoginServer
let standard: BehaviourServer
// Another origin an API may redirect to: it must never see a token or the API key.
let elsewhere: RunningServer
const seenElsewhere: import('node:http').IncomingHttpHeaders[] = []

beforeAll(async () => {
  ;[json, basic, login, standard] = await Promise.all([
    startJsonClientCredentialsServer({ clientId: 'json-client', clientSecret: 'json-secret', now }),
    startBasicWithClientIdServer({
      clientId: 'partner-app',
      clientSecret: 'p@ss:word+/=',
      apiKey: 'key-123',
      now,
    }),
    startPasswordLoginServer({ username: 'ada', password: 'correct horse', now }),
    startStandardTokenServer({ clientId: 'std-client', clientSecret: 'std secret&more', now }),
  ])
  elsewhere = await listen((request, response) => {
    seenElsewhere.push({ ...request.headers })
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"elsewhere":true}')
  })
})

afterAll(async () => {
  await Promise.all([json, basic, login, standard, elsewhere].map((server) => server?.close()))
})

beforeEach(() => {
  for (const server of [json, basic, login, standard]) server.clearRecords()
  seenElsewhere.length = 0
})

describe.each(adapters)('$name with each provider behaviour', (adapter) => {
  describe('1. client credentials as JSON, no expires_in (documented 8 h lifetime)', () => {
    const manager = () =>
      createTokenManager({
        grant: clientCredentials({
          tokenUrl: json.tokenUrl,
          clientId: 'json-client',
          clientSecret: 'json-secret',
          clientAuth: 'client_secret_json',
        }),
        defaultLifetime: 8 * HOUR,
        now,
      })

    it('sends the JSON body the provider wants, and one token request for 20 requests', async () => {
      const api = adapter.create({ manager: manager() }, json.url)

      const replies = await Promise.all(range(20).map((i) => api.get(`/v1/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(20))
      expect(json.tokenRequests).toHaveLength(1)
      const [request] = json.tokenRequests
      expect(request?.headers['content-type']).toBe('application/json')
      expect(request?.headers.authorization).toBeUndefined()
      expect(JSON.parse(request?.body ?? '')).toEqual({
        client_id: 'json-client',
        client_secret: 'json-secret',
        grant_type: 'client_credentials',
      })
      expect(
        json.apiRequests.every((r) => /^Bearer \S+$/.test(String(r.headers.authorization))),
      ).toBe(true)
    })

    it('keeps the token for the documented lifetime and refreshes before it ends', async () => {
      const tokens = manager()
      const api = adapter.create({ manager: tokens }, json.url)
      await api.get('/v1/warm-up')

      time += 7 * HOUR
      await Promise.all(range(10).map((i) => api.get(`/v1/items/${i}`)))
      expect(json.tokenRequests).toHaveLength(1)

      // Refreshed refreshSkew (60 s) before the 8 h are over, without a 401.
      time += HOUR - 30_000
      const replies = await Promise.all(range(10).map((i) => api.get(`/v1/later/${i}`)))
      expect(statuses(replies)).toEqual(ok(10))
      expect(json.tokenRequests).toHaveLength(2)
      expect(tokens.stats().reasons).toEqual({ cold: 1, expiring: 1, rejected: 0 })
      expect(json.apiRequests.filter((r) => r.path.startsWith('/v1/later'))).toHaveLength(10)
    })

    it('recovers with one token request when the provider drops its tokens early', async () => {
      const api = adapter.create({ manager: manager() }, json.url)
      await api.get('/v1/warm-up')
      json.revokeAll()

      const replies = await Promise.all(range(20).map((i) => api.get(`/v1/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(20))
      expect(json.tokenRequests).toHaveLength(2)
      expect(mostSends(json)).toBeLessThanOrEqual(2)
    })
  })

  describe('2. Basic + client_id in the body; the API wants the raw token and x-api-key', () => {
    const config = () => ({
      manager: createTokenManager({
        grant: clientCredentials({
          tokenUrl: basic.tokenUrl,
          clientId: 'partner-app',
          clientSecret: 'p@ss:word+/=',
          clientAuth: 'client_secret_basic',
          clientIdInBody: true,
        }),
        now,
      }),
      scheme: false as const,
      headers: { 'x-api-key': 'key-123' },
    })

    it('authenticates with Basic and client_id, then sends Authorization: <token> and x-api-key', async () => {
      const api = adapter.create(config(), basic.url)

      const replies = await Promise.all(range(20).map((i) => api.get(`/v2/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(20))
      expect(basic.tokenRequests).toHaveLength(1)
      const [request] = basic.tokenRequests
      const encoded = Buffer.from('partner-app:p%40ss%3Aword%2B%2F%3D').toString('base64')
      expect(request?.headers.authorization).toBe(`Basic ${encoded}`)
      expect(form(request?.body ?? '')).toEqual({
        grant_type: 'client_credentials',
        client_id: 'partner-app',
      })
      for (const seen of basic.apiRequests) {
        expect(seen.headers.authorization).toMatch(/^[\w-]+$/)
        expect(seen.headers['x-api-key']).toBe('key-123')
      }
    })

    it('recovers from a plain 401 (no WWW-Authenticate) with one token request', async () => {
      const api = adapter.create(config(), basic.url)
      await api.get('/v2/warm-up')
      basic.revokeAll()

      const replies = await Promise.all(range(20).map((i) => api.get(`/v2/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(20))
      expect(basic.tokenRequests).toHaveLength(2)
      expect(mostSends(basic)).toBeLessThanOrEqual(2)
    })

    it('sends neither the raw token nor x-api-key to another origin after a redirect', async () => {
      const api = adapter.create(config(), basic.url)

      const reply = await api.get(`/redirect?to=${encodeURIComponent(`${elsewhere.url}/landing`)}`)

      expect(reply).toMatchObject({ status: 200, body: { elsewhere: true } })
      expect(basic.apiRequests[0]?.headers['x-api-key']).toBe('key-123')
      expect(seenElsewhere).toHaveLength(1)
      expect(seenElsewhere[0]?.authorization).toBeUndefined()
      expect(seenElsewhere[0]?.['x-api-key']).toBeUndefined()
    })

    it('does not refresh on the 403 of a wrong API key', async () => {
      const api = adapter.create({ ...config(), headers: { 'x-api-key': 'wrong' } }, basic.url)

      const reply = await api.get('/v2/items')

      expect(reply.status).toBe(403)
      expect(basic.tokenRequests).toHaveLength(1)
      expect(basic.apiRequests).toHaveLength(1)
    })
  })

  describe('3. username/password login with a nested response, refresh token, Token-Expired', () => {
    let tokens: TokenManager
    const config = () => {
      tokens = createTokenManager({
        grant: customGrant({
          tokenUrl: `${login.url}/auth/login`,
          request: () => ({ json: { username: 'ada', password: 'correct horse' } }),
          refresh: (refreshToken) => ({
            url: login.refreshUrl,
            json: { refresh_token: refreshToken },
          }),
          parse: (body) => {
            const token = body.access_token as {
              token: string
              token_type: string
              expires_in: number
            }
            return {
              accessToken: token.token,
              tokenType: token.token_type,
              expiresIn: token.expires_in,
              refreshToken: body.refresh_token as string,
            }
          },
          identity: ['ada'],
        }),
        now,
      })
      return { manager: tokens }
    }
    const paths = (server: BehaviourServer) => server.tokenRequests.map((request) => request.path)

    it('logs in once for 20 concurrent requests, with the JSON body the API wants', async () => {
      const api = adapter.create(config(), login.url)

      const replies = await Promise.all(range(20).map((i) => api.get(`/me/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(20))
      expect(paths(login)).toEqual(['/auth/login'])
      expect(JSON.parse(login.tokenRequests[0]?.body ?? '')).toEqual({
        username: 'ada',
        password: 'correct horse',
      })
      expect(login.apiRequests[0]?.headers.authorization).toMatch(/^Bearer \S+$/)
    })

    it('answers Token-Expired with one refresh (not a new login), then rotates the refresh token', async () => {
      const api = adapter.create(config(), login.url)
      await api.get('/me/warm-up')
      const firstRefreshToken = (await tokens.getToken()).refreshToken

      login.expireAll()
      const replies = await Promise.all(range(20).map((i) => api.get(`/me/items/${i}`)))
      login.expireAll()
      const again = await Promise.all(range(5).map((i) => api.get(`/me/again/${i}`)))

      expect(statuses([...replies, ...again])).toEqual(ok(25))
      expect(paths(login)).toEqual(['/auth/login', '/auth/refresh', '/auth/refresh'])
      const [, firstRefresh, secondRefresh] = login.tokenRequests.map((r) => JSON.parse(r.body))
      expect(firstRefresh).toEqual({ refresh_token: firstRefreshToken })
      // The server rotated the refresh token: the second refresh uses the new one.
      expect(secondRefresh.refresh_token).not.toBe(firstRefreshToken)
      const expired = login.apiRequests.filter((r) => r.path.startsWith('/me/items'))
      expect(expired.length).toBeLessThanOrEqual(40)
      expect(mostSends(login)).toBeLessThanOrEqual(2)
    })

    it('logs in again when the refresh token is refused', async () => {
      const api = adapter.create(config(), login.url)
      await api.get('/me/warm-up')
      login.revokeRefreshTokens()
      login.expireAll()

      const replies = await Promise.all(range(10).map((i) => api.get(`/me/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(10))
      expect(paths(login)).toEqual(['/auth/login', '/auth/refresh', '/auth/login'])
    })

    it('refreshes ahead of the advertised expires_in, without a 401', async () => {
      const api = adapter.create(config(), login.url)
      await api.get('/me/warm-up')

      time += HOUR - 30_000
      const replies = await Promise.all(range(10).map((i) => api.get(`/me/items/${i}`)))

      expect(statuses(replies)).toEqual(ok(10))
      expect(paths(login)).toEqual(['/auth/login', '/auth/refresh'])
      expect(login.apiRequests).toHaveLength(11)
    })
  })

  describe('4. a standard /oauth/token with expires_in', () => {
    const config = (clientAuth: 'client_secret_basic' | 'client_secret_post') => {
      const manager = createTokenManager({
        grant: clientCredentials({
          tokenUrl: standard.tokenUrl,
          clientId: 'std-client',
          clientSecret: 'std secret&more',
          clientAuth,
          scope: 'orders:read',
        }),
        now,
      })
      return { manager }
    }

    it.each(['client_secret_basic', 'client_secret_post'] as const)(
      'gets one token with %s for 20 requests, sends it as Bearer',
      async (clientAuth) => {
        const api = adapter.create(config(clientAuth), standard.url)

        const replies = await Promise.all(range(20).map((i) => api.get(`/orders/${i}`)))

        expect(statuses(replies)).toEqual(ok(20))
        expect(standard.tokenRequests).toHaveLength(1)
        const [request] = standard.tokenRequests
        const body = form(request?.body ?? '')
        expect(body).toMatchObject({ grant_type: 'client_credentials', scope: 'orders:read' })
        if (clientAuth === 'client_secret_basic') {
          expect(request?.headers.authorization).toBe(
            `Basic ${Buffer.from('std-client:std+secret%26more').toString('base64')}`,
          )
          expect(body).not.toHaveProperty('client_secret')
        } else {
          expect(request?.headers.authorization).toBeUndefined()
          expect(body).toMatchObject({ client_id: 'std-client', client_secret: 'std secret&more' })
        }
        // token_type "bearer" (lower case) is written as the Bearer scheme.
        expect(standard.apiRequests[0]?.headers.authorization).toMatch(/^Bearer \S+$/)
      },
    )

    it('refreshes before expires_in runs out, and recovers from an expired token with one request', async () => {
      const api = adapter.create(config('client_secret_basic'), standard.url)
      await api.get('/orders/warm-up')

      time += HOUR - 30_000
      await Promise.all(range(10).map((i) => api.get(`/orders/early/${i}`)))
      expect(standard.tokenRequests).toHaveLength(2)
      expect(standard.apiRequests).toHaveLength(11)

      standard.revokeAll()
      const replies = await Promise.all(range(20).map((i) => api.get(`/orders/${i}`)))
      expect(statuses(replies)).toEqual(ok(20))
      expect(standard.tokenRequests).toHaveLength(3)
      expect(mostSends(standard)).toBeLessThanOrEqual(2)
    })
  })
})
