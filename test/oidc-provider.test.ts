import {
  type AuthConfig,
  clientCredentials,
  createTokenManager,
  type TokenManager,
} from '@oauth-interceptors/core'
import { revocation } from '@oauth-interceptors/core/revocation'
import {
  type AuthorizationServer,
  basicCredentials,
  DEMO_CLIENTS,
  type DemoClient,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { adapters, libraryError } from './support/adapters'

// Real servers in one process: generous limits so a busy CI machine does not fail them.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

// Against a real, certified OAuth 2.0 server: oidc-provider, in this process, on 127.0.0.1.
// Tokens live 30 s of real time. Tests that are about expiry move the client's clock instead
// of waiting, and a longer real lifetime keeps token counts exact on a slow, busy machine.
// (`pnpm demo` runs with 4-second tokens in real time.)
const TTL_SECONDS = 30
let as: AuthorizationServer
let jwtApi: ResourceServer
let opaqueApi: ResourceServer

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTTL: TTL_SECONDS })
  jwtApi = await startResourceServer(as, { resource: RESOURCES.jwt, record: true })
  opaqueApi = await startResourceServer(as, { resource: RESOURCES.opaque, record: true })
})

afterAll(async () => {
  await Promise.all([jwtApi?.close(), opaqueApi?.close()])
  await as?.close()
})

beforeEach(() => {
  jwtApi.reset()
  opaqueApi.reset()
})

/** A fresh manager for `client`, asking for tokens for `resource`. */
function managerFor(
  client: DemoClient,
  resource: string = RESOURCES.jwt,
  options: { now?: () => number; clientSecret?: string; revocationUrl?: string } = {},
): TokenManager {
  return createTokenManager({
    grant: clientCredentials({
      tokenUrl: as.tokenUrl,
      ...(options.revocationUrl && { revocationUrl: options.revocationUrl }),
      clientId: client.clientId,
      clientSecret: options.clientSecret ?? client.clientSecret,
      clientAuth: client.clientAuth,
      resource,
    }),
    ...(options.revocationUrl && { revocation: revocation() }),
    ...(options.now && { now: options.now }),
  })
}

/** Token requests the server received from now on. */
function tokenRequestsFrom() {
  const start = as.tokenRequests.length
  return () => as.tokenRequests.slice(start)
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index)

describe.each(adapters)('$name against oidc-provider', (adapter) => {
  it('starts one token request (client_secret_basic) for 50 concurrent requests; the API gets the JWT as Bearer', async () => {
    const manager = managerFor(DEMO_CLIENTS.basic)
    const api = adapter.create({ manager }, jwtApi.url)
    const sent = tokenRequestsFrom()

    const replies = await Promise.all(range(50).map((i) => api.get(`/items/${i}`)))

    expect(replies.map((reply) => reply.status)).toEqual(range(50).map(() => 200))
    expect(replies[0]?.body).toMatchObject({ client_id: DEMO_CLIENTS.basic.clientId })
    expect(sent()).toEqual([
      expect.objectContaining({
        clientId: DEMO_CLIENTS.basic.clientId,
        grantType: 'client_credentials',
        authorization: 'basic',
        resource: RESOURCES.jwt,
        status: 200,
      }),
    ])
    const token = as.latestToken(DEMO_CLIENTS.basic.clientId)
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(new Set(jwtApi.requests.map((request) => request.headers.authorization))).toEqual(
      new Set([`Bearer ${token}`]),
    )
    expect(jwtApi.requests).toHaveLength(50)
  })

  it('authenticates with client_secret_post: credentials in the body, no Basic header', async () => {
    const api = adapter.create({ manager: managerFor(DEMO_CLIENTS.post) }, jwtApi.url)
    const sent = tokenRequestsFrom()

    const replies = await Promise.all(range(10).map((i) => api.get(`/items/${i}`)))

    expect(replies.every((reply) => reply.status === 200)).toBe(true)
    expect(sent()).toEqual([
      expect.objectContaining({
        clientId: DEMO_CLIENTS.post.clientId,
        authorization: 'none',
        status: 200,
      }),
    ])
  })

  it('form-urlencodes an id and secret full of reserved characters before Basic (RFC 6749 §2.3.1)', async () => {
    const api = adapter.create({ manager: managerFor(DEMO_CLIENTS.reserved) }, jwtApi.url)
    const sent = tokenRequestsFrom()

    const reply = await api.get('/items')

    // oidc-provider refuses credentials that were not form-urlencoded first.
    expect(reply).toMatchObject({
      status: 200,
      body: { client_id: DEMO_CLIENTS.reserved.clientId },
    })
    expect(sent()).toEqual([
      expect.objectContaining({ clientId: DEMO_CLIENTS.reserved.clientId, status: 200 }),
    ])
  })

  it('refreshes a short-lived token before it expires: one token request, no 401', async () => {
    let time = Date.now()
    const manager = managerFor(DEMO_CLIENTS.basic, RESOURCES.jwt, { now: () => time })
    const api = adapter.create({ manager }, jwtApi.url)
    const sent = tokenRequestsFrom()
    await api.get('/warm-up')
    const first = as.latestToken(DEMO_CLIENTS.basic.clientId)

    // The refresh skew (60 s) is capped at half the token's lifetime: refresh after 15 s.
    time += (TTL_SECONDS / 2) * 1000 + 100
    const replies = await Promise.all(range(20).map((i) => api.get(`/items/${i}`)))

    expect(replies.every((reply) => reply.status === 200)).toBe(true)
    expect(sent()).toHaveLength(2)
    expect(manager.stats().reasons).toEqual({ cold: 1, expiring: 1, rejected: 0 })
    expect(as.latestToken(DEMO_CLIENTS.basic.clientId)).not.toBe(first)
    expect(jwtApi.stats().unauthorized).toBe(0)
  })

  it.each([
    ['an opaque token revoked at the server (RFC 7009), seen by introspection', 'opaque'],
    ["a JWT on the API's deny-list", 'jwt'],
  ] as const)(
    'recovers from %s with one token request for 50 concurrent requests',
    async (_, format) => {
      const resourceServer = format === 'opaque' ? opaqueApi : jwtApi
      const client = DEMO_CLIENTS.post
      const manager = managerFor(client, RESOURCES[format])
      const api = adapter.create({ manager }, resourceServer.url)
      await api.get('/warm-up')
      const revoked = as.latestToken(client.clientId) as string
      if (format === 'opaque') await as.revoke(revoked, client)
      else resourceServer.deny(revoked)
      resourceServer.reset()
      const sent = tokenRequestsFrom()

      const replies = await Promise.all(range(50).map((i) => api.get(`/items/${i}`)))

      expect(replies.map((reply) => reply.status)).toEqual(range(50).map(() => 200))
      expect(sent()).toHaveLength(1)
      expect(manager.stats().reasons.rejected).toBe(1)
      // Each request went out at most twice: once with the revoked token, once with the new one.
      const perPath = new Map<string, number>()
      for (const request of resourceServer.requests) {
        perPath.set(request.path, (perPath.get(request.path) ?? 0) + 1)
      }
      expect(Math.max(...perPath.values())).toBeLessThanOrEqual(2)
      const fresh = as.latestToken(client.clientId)
      for (const request of resourceServer.requests.filter((r) => r.status === 200)) {
        expect(request.headers.authorization).toBe(`Bearer ${fresh}`)
      }
      expect(resourceServer.stats().unauthorized).toBeLessThanOrEqual(50)
    },
  )

  it('sends a JSON body again, unchanged, on the retry after a revoked token', async () => {
    const client = DEMO_CLIENTS.basic
    const api = adapter.create({ manager: managerFor(client, RESOURCES.opaque) }, opaqueApi.url)
    await api.get('/warm-up')
    await as.revoke(as.latestToken(client.clientId) as string, client)
    opaqueApi.reset()

    const reply = await api.post('/orders', { item: 'book', quantity: 2 })

    expect(reply.status).toBe(200)
    expect(opaqueApi.requests.map((request) => [request.status, JSON.parse(request.body)])).toEqual(
      [
        [401, { item: 'book', quantity: 2 }],
        [200, { item: 'book', quantity: 2 }],
      ],
    )
  })

  it('does not refresh on 403 insufficient_scope: a new token carries the same rights', async () => {
    const api = adapter.create({ manager: managerFor(DEMO_CLIENTS.basic) }, jwtApi.url)
    await api.get('/warm-up')
    const sent = tokenRequestsFrom()

    const reply = await api.get('/admin/users')

    expect(reply.status).toBe(403)
    expect(sent()).toHaveLength(0)
    expect(jwtApi.stats().forbidden).toBe(1)
  })

  it('fails with invalid_client after one token request when the secret is wrong', async () => {
    const manager = managerFor(DEMO_CLIENTS.basic, RESOURCES.jwt, { clientSecret: 'wrong' })
    const api = adapter.create({ manager }, jwtApi.url)
    const sent = tokenRequestsFrom()

    const error = await api.get('/items').then(
      () => undefined,
      (thrown: unknown) => thrown,
    )

    expect(libraryError(error)).toMatchObject({ name: 'OAuthError', code: 'invalid_client' })
    expect(JSON.stringify(libraryError(error))).not.toContain('wrong')
    expect(sent()).toEqual([expect.objectContaining({ status: 401, error: 'invalid_client' })])
    expect(jwtApi.requests).toHaveLength(0)
  })
})

describe('one manager shared by every adapter', () => {
  it('starts one token request for concurrent requests from all of them, also after a revocation', async () => {
    const client = DEMO_CLIENTS.basic
    const config: AuthConfig = { manager: managerFor(client, RESOURCES.opaque) }
    const clients = adapters.map((adapter) => adapter.create(config, opaqueApi.url))
    const burst = () =>
      Promise.all(clients.flatMap((api, a) => range(25).map((i) => api.get(`/items/${a}/${i}`))))
    const sent = tokenRequestsFrom()

    const cold = await burst()
    await as.revoke(as.latestToken(client.clientId) as string, client)
    const afterRevocation = await burst()

    expect([...cold, ...afterRevocation].every((reply) => reply.status === 200)).toBe(true)
    expect(sent()).toHaveLength(2)
  })
})

/** Whether the server still takes `token`, asked at its introspection endpoint (RFC 7662). */
async function introspect(token: string): Promise<{ active: boolean; client_id?: string }> {
  const response = await fetch(as.introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: basicCredentials(as.introspectionClient),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as { active: boolean; client_id?: string }
}

describe('revocation (RFC 7009) against oidc-provider', () => {
  it.each([
    ['client_secret_basic', DEMO_CLIENTS.basic],
    ['client_secret_post', DEMO_CLIENTS.post],
    ['reserved characters in Basic', DEMO_CLIENTS.reserved],
  ] as const)(
    'revoke() with %s: the token is inactive by introspection afterwards, and the next getToken() gets a new one',
    async (_, client) => {
      const manager = managerFor(client, RESOURCES.opaque, { revocationUrl: as.revocationUrl })
      const { accessToken } = await manager.getToken()
      expect(await introspect(accessToken)).toMatchObject({
        active: true,
        client_id: client.clientId,
      })

      expect(await manager.revoke()).toEqual({ accessTokens: 1, refreshTokens: 0 })

      expect(await introspect(accessToken)).toEqual({ active: false })
      const sent = tokenRequestsFrom()
      const next = await manager.getToken()
      expect(next.accessToken).not.toBe(accessToken)
      expect(sent()).toHaveLength(1)
      expect(await introspect(next.accessToken)).toMatchObject({ active: true })
    },
  )

  it('close({ revoke: true }) revokes at shutdown, then refuses getToken()', async () => {
    const manager = managerFor(DEMO_CLIENTS.basic, RESOURCES.opaque, {
      revocationUrl: as.revocationUrl,
    })
    const { accessToken } = await manager.getToken()

    await manager.close({ revoke: true })

    expect(await introspect(accessToken)).toEqual({ active: false })
    await expect(manager.getToken()).rejects.toMatchObject({ code: 'manager_closed' })
  })

  it('a JWT access token: the server answers unsupported_token_type, a RevocationError without the token; the token is dropped all the same', async () => {
    const client = DEMO_CLIENTS.basic
    const manager = managerFor(client, RESOURCES.jwt, { revocationUrl: as.revocationUrl })
    const { accessToken } = await manager.getToken()

    const error = await manager.revoke().catch((thrown: unknown) => thrown)

    expect(error).toMatchObject({
      name: 'RevocationError',
      code: 'unsupported_token_type',
      status: 400,
      tokenTypeHint: 'access_token',
      transient: false,
    })
    expect(JSON.stringify(error)).not.toContain(accessToken)
    expect(String(error)).not.toContain(client.clientSecret)
    const sent = tokenRequestsFrom()
    expect((await manager.getToken()).accessToken).not.toBe(accessToken)
    expect(sent()).toHaveLength(1)
  })

  it('a wrong client secret: invalid_client, with the secret nowhere in the error', async () => {
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: as.tokenUrl,
        revocationUrl: as.revocationUrl,
        clientId: DEMO_CLIENTS.basic.clientId,
        clientSecret: DEMO_CLIENTS.basic.clientSecret,
        resource: RESOURCES.opaque,
      }),
      revocation: revocation(),
    })
    const { accessToken } = await manager.getToken()
    // The same token, revoked by a client with a wrong secret.
    const impostor = createTokenManager({
      grant: clientCredentials({
        tokenUrl: as.tokenUrl,
        revocationUrl: as.revocationUrl,
        clientId: DEMO_CLIENTS.basic.clientId,
        clientSecret: 'wrong-secret-0a9b8c',
        resource: RESOURCES.opaque,
      }),
      revocation: revocation(),
      fetch: (url, init) =>
        url === as.tokenUrl
          ? Promise.resolve(
              Response.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 30 }),
            )
          : fetch(url, init),
    })
    await impostor.getToken()

    const error = await impostor.revoke().catch((thrown: unknown) => thrown)

    expect(error).toMatchObject({ name: 'RevocationError', code: 'invalid_client', status: 401 })
    expect(JSON.stringify(error)).not.toContain('wrong-secret-0a9b8c')
    expect(JSON.stringify(error)).not.toContain(accessToken)
    expect(await introspect(accessToken)).toMatchObject({ active: true })
  })
})
