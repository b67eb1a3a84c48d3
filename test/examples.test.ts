import type { AddressInfo } from 'node:net'
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import {
  type AuthorizationServer,
  DEMO_CLIENTS,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
  TOKEN_EXCHANGE,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOrdersApi } from '../examples/axios/node-service/src/orders-api'
import { startAppServer } from '../examples/browser/tabs/src/server'
import { openTabs } from '../examples/browser/tabs/src/tabs'
import { createBff } from '../examples/express/bff/src/app'
import { createGateway } from '../examples/express/token-exchange/src/app'
import { createInventory } from '../examples/fetch/node-script/src/inventory'
import { createOrder, getStock } from '../examples/hey-api/typed-client/src/client'
import { createOrdersClient as createHeyApiClient } from '../examples/hey-api/typed-client/src/orders'
import { createApi } from '../examples/ky/cli/src/api'
import { webHandler } from '../examples/ofetch/nitro-route/src/app'
import { createOrdersClient } from '../examples/openapi-fetch/typed-client/src/orders'
import { createTracedInventory } from '../examples/otel/console/src/traced-inventory'
import { installOAuth, stockOf } from '../examples/undici/node-global-fetch/src/inventory'

// The examples' own code (what a user copies), run against the demo servers.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

let as: AuthorizationServer
let api: ResourceServer
let environment: {
  tokenUrl: string
  apiUrl: string
  clientId: string
  clientSecret: string
  resource: string
}

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTTL: 60 })
  api = await startResourceServer(as, { resource: RESOURCES.opaque, record: true })
  environment = {
    tokenUrl: as.tokenUrl,
    apiUrl: api.url,
    clientId: DEMO_CLIENTS.basic.clientId,
    clientSecret: DEMO_CLIENTS.basic.clientSecret,
    resource: RESOURCES.opaque,
  }
})

afterAll(async () => {
  await api?.close()
  await as?.close()
})

beforeEach(() => {
  api.reset()
})

const revokeCurrentToken = () =>
  as.revoke(as.latestToken(DEMO_CLIENTS.basic.clientId) as string, DEMO_CLIENTS.basic)

describe('examples/axios/node-service', () => {
  it('makes one token request for 20 concurrent calls and recovers from a revocation', async () => {
    const orders = createOrdersApi(environment)

    await Promise.all(Array.from({ length: 20 }, () => orders.listOrders()))
    await revokeCurrentToken()
    const created = await orders.createOrder({ item: 'book', quantity: 2 })

    expect(created).toMatchObject({ ok: true, body: '{"item":"book","quantity":2}' })
    expect(orders.stats().requested).toBe(2)
  })
})

describe('examples/ky/cli', () => {
  it('reports each token it receives and fetches with it', async () => {
    const events: string[] = []
    const client = createApi({
      ...environment,
      onEvent: (event) => events.push(`${event.type}:${'reason' in event ? event.reason : ''}`),
    })

    const orders = await Promise.all(
      ['a', 'b', 'c'].map((id) => client.get(`orders/${id}`).json<{ path: string }>()),
    )

    expect(orders.map((order) => order.path)).toEqual(['/orders/a', '/orders/b', '/orders/c'])
    expect(events).toEqual(['token_requested:cold', 'token_received:cold'])
  })
})

describe('examples/ofetch/nitro-route', () => {
  it('answers GET /orders through an h3 app, with the upstream token', async () => {
    Object.assign(process.env, {
      ORDERS_TOKEN_URL: environment.tokenUrl,
      ORDERS_API_URL: environment.apiUrl,
      ORDERS_CLIENT_ID: environment.clientId,
      ORDERS_CLIENT_SECRET: environment.clientSecret,
      ORDERS_RESOURCE: environment.resource,
    })
    const handle = webHandler()

    const response = await handle(new Request('http://bff.local/orders?status=open'))

    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ ok: true, path: '/orders' })
    expect(api.requests[0]?.path).toBe('/orders?status=open')
    expect(api.requests[0]?.headers.authorization).toMatch(/^Bearer /)
  })
})

describe('examples/fetch/node-script', () => {
  it('reads stock with an encoded SKU', async () => {
    const stockOf = createInventory(environment)

    expect(await stockOf('lamp/3')).toMatchObject({ ok: true, path: '/stock/lamp%2F3' })
  })
})

describe('examples/otel/console', () => {
  it('prints one token-request span and the token metrics, and never the token or the secret', async () => {
    const printed: unknown[] = []
    const dir = vi.spyOn(console, 'dir').mockImplementation((item) => {
      printed.push(item)
    })
    try {
      const inventory = createTracedInventory(environment)
      expect(await inventory.stockOf('book-42')).toMatchObject({ ok: true })
      expect(await inventory.stockOf('pen 7')).toMatchObject({ ok: true })
      await inventory.shutdown()
    } finally {
      dir.mockRestore()
    }
    const spans = printed.filter(
      (item) => (item as { name?: unknown }).name === 'oauth.token.request',
    )
    expect(spans).toHaveLength(1)
    expect(spans[0]).toMatchObject({
      kind: 2, // CLIENT
      attributes: { 'oauth.grant_type': 'client_credentials', 'oauth.token.outcome': 'success' },
    })
    const metricNames = printed.map(
      (item) => (item as { descriptor?: { name?: unknown } }).descriptor?.name,
    )
    expect(metricNames).toEqual(
      expect.arrayContaining([
        'oauth.token.requests',
        'oauth.token.request.duration',
        'oauth.token.cache_hits',
      ]),
    )
    const output = JSON.stringify(printed)
    expect(output).not.toContain(as.latestToken(DEMO_CLIENTS.basic.clientId) as string)
    expect(output).not.toContain(DEMO_CLIENTS.basic.clientSecret)
  })
})

describe('examples/undici/node-global-fetch', () => {
  it("gives the global fetch's requests to the API a token, and puts the global dispatcher back", async () => {
    const uninstall = installOAuth(environment)
    try {
      expect(await stockOf(environment.apiUrl, 'lamp/3')).toMatchObject({
        ok: true,
        path: '/stock/lamp%2F3',
      })
      expect(api.requests[0]?.headers.authorization).toMatch(/^Bearer /)
    } finally {
      uninstall()
    }
    await expect(stockOf(environment.apiUrl, 'pen 7')).rejects.toThrow(/answered 401/)
  })
})

describe('examples/openapi-fetch/typed-client', () => {
  it('typed GET and POST carry the token; a POST whose token was revoked is sent again once, body and all', async () => {
    const orders = createOrdersClient(environment)

    const stock = await orders.GET('/stock/{sku}', { params: { path: { sku: 'lamp/3' } } })
    expect(stock.data).toMatchObject({ ok: true, path: '/stock/lamp%2F3' })
    await revokeCurrentToken()
    api.reset()
    const order = await orders.POST('/orders', { body: { item: 'book', quantity: 2 } })

    expect(order.response.status).toBe(200)
    expect(order.data?.body).toBe('{"item":"book","quantity":2}')
    const posts = api.requests.filter((request) => request.path === '/orders')
    expect(posts.map((request) => request.body)).toEqual([
      '{"item":"book","quantity":2}',
      '{"item":"book","quantity":2}',
    ])
    const [first, second] = posts.map((request) => request.headers.authorization)
    expect(first).toMatch(/^Bearer /)
    expect(second).toMatch(/^Bearer /)
    expect(second).not.toBe(first)
    expect(posts[1]?.headers['content-type']).toBe('application/json')
  })
})

describe('examples/hey-api/typed-client', () => {
  it('generated SDK calls carry the token; a POST whose token was revoked is sent again once, body and all', async () => {
    const client = createHeyApiClient(environment)
    const issuedBefore = as.tokensIssued(DEMO_CLIENTS.basic.clientId)

    const stock = await getStock({ client, path: { sku: 'lamp/3' } })
    expect(stock.data).toMatchObject({ ok: true, path: '/stock/lamp%2F3' })
    const firstToken = as.latestToken(DEMO_CLIENTS.basic.clientId)
    expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${firstToken}`)
    await revokeCurrentToken()
    api.reset()
    const order = await createOrder({ client, body: { item: 'book', quantity: 2 } })

    expect(order.response.status).toBe(200)
    expect(order.data?.body).toBe('{"item":"book","quantity":2}')
    const posts = api.requests.filter((request) => request.path === '/orders')
    expect(posts.map((request) => request.body)).toEqual([
      '{"item":"book","quantity":2}',
      '{"item":"book","quantity":2}',
    ])
    expect(posts.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${firstToken}`,
      `Bearer ${as.latestToken(DEMO_CLIENTS.basic.clientId)}`,
    ])
    expect(posts[1]?.headers.authorization).not.toBe(posts[0]?.headers.authorization)
    expect(posts[1]?.headers['content-type']).toBe('application/json')
    // One token for the GET, one after the revocation: no more.
    expect(as.tokensIssued(DEMO_CLIENTS.basic.clientId) - issuedBefore).toBe(2)
  })
})

describe('examples/browser/tabs', () => {
  it('three headless Chromium tabs refresh a revoked token once, with the rotating refresh token used once', async () => {
    const app = await startAppServer()
    const tabs = await openTabs(app.url, 3)
    try {
      const ok = { status: 200, shown: '200 book-42, lamp-3' }

      expect(await tabs.loadAll()).toEqual([ok, ok, ok])
      expect(app.refreshes).toEqual(['refresh-0'])
      app.revokeAccess()
      expect(await tabs.loadAll()).toEqual([ok, ok, ok])

      expect(app.refreshes).toEqual(['refresh-0', 'refresh-1'])
      expect(app.reused).toEqual([])
    } finally {
      await tabs.close()
      await app.close()
    }
  })
})

describe('examples/express/bff', () => {
  let bff: string
  let close: () => void

  beforeAll(async () => {
    const server = createBff(environment).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    bff = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => {
      server.closeAllConnections()
      server.close()
    }
  })

  afterAll(() => close?.())

  it('forwards /api/* with the service token and without the browser cookie', async () => {
    const response = await fetch(`${bff}/api/orders?status=open`, {
      headers: {
        cookie: 'session=secret',
        authorization: 'Bearer browser-token',
        accept: 'application/json',
      },
    })

    expect(response.status).toBe(200)
    const [seen] = api.requests
    expect(seen?.path).toBe('/orders?status=open')
    expect(seen?.headers.authorization).toBe(
      `Bearer ${as.latestToken(DEMO_CLIENTS.basic.clientId)}`,
    )
    expect(seen?.headers.cookie).toBeUndefined()
    expect(seen?.headers.accept).toBe('application/json')
  })

  it('sends a POST body again after the token was revoked, with one new token for all routes', async () => {
    await fetch(`${bff}/dashboard`)
    const before = (await (await fetch(`${bff}/healthz`)).json()) as {
      tokens: { requested: number }
    }
    await revokeCurrentToken()

    const [posted, dashboard] = await Promise.all([
      fetch(`${bff}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'pen' }),
      }),
      fetch(`${bff}/dashboard`),
    ])

    expect(posted.status).toBe(200)
    expect(await posted.json()).toMatchObject({ method: 'POST', body: '{"item":"pen"}' })
    expect(dashboard.status).toBe(200)
    const after = (await (await fetch(`${bff}/healthz`)).json()) as {
      tokens: { requested: number }
    }
    expect(after.tokens.requested - before.tokens.requested).toBe(1)
  })

  it('keeps /api//other-host paths on the upstream origin', async () => {
    const response = await fetch(`${bff}/api//evil.example/steal`)

    expect(response.status).toBe(200)
    expect(api.requests.at(-1)?.path).toBe('//evil.example/steal')
  })

  it('relays an upstream 403 without refreshing', async () => {
    await fetch(`${bff}/api/warm-up`)
    const before = as.tokenRequests.length

    const response = await fetch(`${bff}/api/admin/users`)

    expect(response.status).toBe(403)
    expect(as.tokenRequests.length).toBe(before)
  })
})

describe('examples/express/token-exchange', () => {
  const gatewayClient = { clientId: 'orders-gateway', clientSecret: 'orders-gateway-test-secret' }
  const callers = ['mobile-app', 'partner-portal']
  let exchangeAs: AuthorizationServer
  let orders: ResourceServer
  let gateway: string
  let close: () => void
  const callerTokens: string[] = []

  beforeAll(async () => {
    exchangeAs = await startAuthorizationServer({
      accessTokenTTL: 60,
      tokenExchange: true,
      extraClients: [
        { ...{ client_id: gatewayClient.clientId, client_secret: gatewayClient.clientSecret } },
        ...callers.map((client_id) => ({ client_id, client_secret: `${client_id}-secret` })),
      ].map((client, index) =>
        index === 0 ? { ...client, grant_types: [TOKEN_EXCHANGE] } : client,
      ),
    })
    orders = await startResourceServer(exchangeAs, { resource: RESOURCES.jwt, record: true })
    const { app } = createGateway({
      apiUrl: orders.url,
      tokenUrl: exchangeAs.tokenUrl,
      ...gatewayClient,
      resource: RESOURCES.jwt,
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => {
      server.closeAllConnections()
      server.close()
    }
    for (const clientId of callers) {
      const caller = createTokenManager({
        grant: clientCredentials({
          tokenUrl: exchangeAs.tokenUrl,
          clientId,
          clientSecret: `${clientId}-secret`,
          resource: RESOURCES.opaque,
        }),
      })
      callerTokens.push((await caller.getToken()).accessToken)
    }
  })

  afterAll(async () => {
    close?.()
    await orders?.close()
    await exchangeAs?.close()
  })

  it("exchanges each caller's token once for 10 concurrent calls, and calls the API with the exchanged token", async () => {
    const replies = await Promise.all(
      callerTokens.flatMap((token) =>
        Array.from({ length: 10 }, () =>
          fetch(`${gateway}/orders`, { headers: { authorization: `Bearer ${token}` } }),
        ),
      ),
    )

    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
    expect(exchangeAs.tokenExchanges.map((exchange) => exchange.subjectClientId).sort()).toEqual(
      callers,
    )
    const issued = new Set(exchangeAs.tokenExchanges.map((exchange) => `Bearer ${exchange.issued}`))
    const sent = new Set(orders.requests.map((request) => request.headers.authorization))
    expect(sent).toEqual(issued)
    // The caller's own token never reaches the API.
    for (const token of callerTokens) expect([...sent].join()).not.toContain(token)
  })

  it('answers 401 for a caller without a token, and for one whose token the server refuses', async () => {
    const before = exchangeAs.tokenExchanges.length

    const anonymous = await fetch(`${gateway}/orders`)
    const forged = await fetch(`${gateway}/orders`, {
      headers: { authorization: 'Bearer forged-caller-token' },
    })

    expect(anonymous.status).toBe(401)
    expect(forged.status).toBe(401)
    expect(await forged.json()).toEqual({ error: 'token_exchange_failed', code: 'invalid_grant' })
    expect(exchangeAs.tokenExchanges).toHaveLength(before)
  })
})
