import { Readable } from 'node:stream'
import {
  clientCredentials,
  createTokenManager,
  isOAuthInterceptorsError,
} from '@oauth-interceptors/core'
import * as undici7 from 'undici'
import * as undici8 from 'undici8'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
// The fetch adapter's loopback token server and API, shared rather than copied.
import { startAuthServers } from '../../fetch/test/servers'
import { oauthInterceptor } from '../src'

let servers: Awaited<ReturnType<typeof startAuthServers>>
beforeAll(async () => {
  servers = await startAuthServers()
})
afterAll(() => servers.close())

const versions = [
  ['undici 7', undici7],
  ['undici 8', undici8 as unknown as typeof undici7],
] as const

describe.each(versions)('%s', (_, undici) => {
  const { Agent, interceptors, request, fetch } = undici
  let manager: ReturnType<typeof createTokenManager>
  beforeEach(() => {
    servers.tokens.seen.length = 0
    servers.api.seen.length = 0
    servers.other.seen.length = 0
    manager = createTokenManager({
      grant: clientCredentials({ tokenUrl: servers.tokenUrl, clientId: 'id', clientSecret: 's' }),
    })
  })
  const agent = (options: { redirect?: boolean; headers?: Record<string, string> } = {}) =>
    new Agent().compose([
      oauthInterceptor({ manager, origins: [servers.api.origin], ...options }),
      ...(options.redirect ? [interceptors.redirect({ maxRedirections: 5 })] : []),
    ])
  const auth = (seen: { headers: Record<string, unknown> }[]) =>
    seen.map((request) => request.headers.authorization)

  it('adds the token for an allowed origin, with undici.request', async () => {
    const response = await request(servers.api.url('/me'), { dispatcher: agent() })

    expect(response.statusCode).toBe(200)
    await response.body.dump()
    expect(auth(servers.api.seen)).toEqual([expect.stringMatching(/^Bearer at-\d+$/)])
    expect(servers.tokens.seen).toHaveLength(1)
  })

  it('adds no token for another origin, and makes no token request', async () => {
    const response = await request(servers.other.url('/me'), { dispatcher: agent() })

    expect(response.statusCode).toBe(401)
    await response.body.dump()
    expect(auth(servers.other.seen)).toEqual([undefined])
    expect(servers.tokens.seen).toHaveLength(0)
  })

  it('sends neither token nor static headers with skipAuth: true', async () => {
    const dispatcher = agent({ headers: { 'x-api-key': 'k' } })
    const options = { dispatcher, skipAuth: true } as Parameters<typeof request>[1]
    const response = await request(servers.api.url('/public'), options)

    expect(response.statusCode).toBe(401)
    await response.body.dump()
    expect(servers.api.seen[0]?.headers).not.toHaveProperty('authorization')
    expect(servers.api.seen[0]?.headers).not.toHaveProperty('x-api-key')
  })

  it('refreshes once and retries once on a 401, resending a string body', async () => {
    const dispatcher = agent()
    await (await request(servers.api.url('/warm-up'), { dispatcher })).body.dump()
    servers.revokeAll()

    const response = await request(servers.api.url('/orders'), {
      dispatcher,
      method: 'POST',
      body: 'qty=2',
    })

    expect(response.statusCode).toBe(200)
    expect(await response.body.json()).toEqual({ method: 'POST', body: 'qty=2' })
    const sent = servers.api.seen.filter((seen) => seen.path === '/orders')
    expect(sent.map((seen) => [seen.headers.authorization, seen.body])).toEqual([
      [expect.stringMatching(/^Bearer at-/), 'qty=2'],
      [expect.stringMatching(/^Bearer at-/), 'qty=2'],
    ])
    expect(sent[0]?.headers.authorization).not.toBe(sent[1]?.headers.authorization)
    expect(servers.tokens.seen).toHaveLength(2)
  })

  it('makes 1 token request for 100 concurrent 401s, and sends each request twice', async () => {
    const dispatcher = agent()
    await (await request(servers.api.url('/warm-up'), { dispatcher })).body.dump()
    servers.revokeAll()

    const statuses = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const response = await request(servers.api.url(`/items/${i}`), { dispatcher })
        await response.body.dump()
        return response.statusCode
      }),
    )

    expect(statuses.every((status) => status === 200)).toBe(true)
    expect(servers.tokens.seen).toHaveLength(2)
    expect(servers.api.seen.filter((seen) => seen.path.startsWith('/items/'))).toHaveLength(200)
  })

  it('sends a stream body once and surfaces its 401; the next request gets a new token', async () => {
    const dispatcher = agent()
    await (await request(servers.api.url('/warm-up'), { dispatcher })).body.dump()
    servers.revokeAll()

    const response = await request(servers.api.url('/upload'), {
      dispatcher,
      method: 'POST',
      body: Readable.from(['stream ', 'body']),
    })
    await response.body.dump()
    const next = await request(servers.api.url('/me'), { dispatcher })
    await next.body.dump()

    expect(response.statusCode).toBe(401)
    expect(servers.api.sentTo('/upload').map((seen) => seen.body)).toEqual(['stream body'])
    expect(next.statusCode).toBe(200)
    expect(servers.tokens.seen).toHaveLength(2)
  })

  it('surfaces a persistent 401 after exactly one retry', async () => {
    const response = await request(servers.api.url('/always-401'), { dispatcher: agent() })
    await response.body.dump()

    expect(response.statusCode).toBe(401)
    expect(servers.api.sentTo('/always-401')).toHaveLength(2)
    expect(servers.tokens.seen).toHaveLength(2)
  })

  it('returns a plain 3xx as it is without a redirect interceptor', async () => {
    const to = servers.other.url('/landing')
    const response = await request(servers.api.url(`/redirect?to=${to}`), { dispatcher: agent() })
    await response.body.dump()

    expect(response.statusCode).toBe(302)
    expect(servers.other.seen).toHaveLength(0)
  })

  describe("with undici's redirect interceptor", () => {
    it('keeps the token on a same-origin redirect', async () => {
      const dispatcher = agent({ redirect: true })
      const response = await request(servers.api.url('/redirect?to=/final'), { dispatcher })
      await response.body.dump()

      expect(response.statusCode).toBe(200)
      expect(auth(servers.api.sentTo('/final'))).toEqual([expect.stringMatching(/^Bearer at-/)])
    })

    it('drops the token and static headers on a hop to another origin', async () => {
      const dispatcher = agent({ redirect: true, headers: { 'x-api-key': 'k' } })
      const to = servers.other.url('/landing')
      const response = await request(servers.api.url(`/redirect?to=${to}`), { dispatcher })
      await response.body.dump()

      expect(servers.api.sentTo('/redirect')[0]?.headers['x-api-key']).toBe('k')
      expect(servers.other.sentTo('/landing')).toHaveLength(1)
      expect(servers.other.sentTo('/landing')[0]?.headers).not.toHaveProperty('authorization')
      expect(servers.other.sentTo('/landing')[0]?.headers).not.toHaveProperty('x-api-key')
    })

    it('adds no token again once the chain passed another origin (allowed → other → allowed)', async () => {
      const dispatcher = agent({ redirect: true, headers: { 'x-api-key': 'k' } })
      const back = encodeURIComponent(servers.api.url('/final'))
      const via = encodeURIComponent(servers.other.url(`/redirect?to=${back}`))
      const response = await request(servers.api.url(`/redirect?to=${via}`), { dispatcher })
      await response.body.dump()

      expect(servers.other.sentTo('/redirect')).toHaveLength(1)
      expect(servers.api.sentTo('/final')).toHaveLength(1)
      expect(servers.api.sentTo('/final')[0]?.headers).not.toHaveProperty('authorization')
      expect(servers.api.sentTo('/final')[0]?.headers).not.toHaveProperty('x-api-key')
      expect(servers.tokens.seen).toHaveLength(1)
    })

    it('adds no token to a hop to an allowed origin when the chain started elsewhere', async () => {
      const dispatcher = agent({ redirect: true })
      const to = encodeURIComponent(servers.api.url('/final'))
      const response = await request(servers.other.url(`/redirect?to=${to}`), { dispatcher })
      await response.body.dump()

      expect(auth(servers.api.sentTo('/final'))).toEqual([undefined])
      expect(servers.tokens.seen).toHaveLength(0)
    })
  })

  it("adds the token to the global fetch's requests via setGlobalDispatcher", async () => {
    // Node 20's own fetch reads the global dispatcher undici 7 sets; undici 8's, its own fetch.
    const globalFetch = undici === undici7 ? globalThis.fetch : undici.fetch
    const previous = undici.getGlobalDispatcher()
    undici.setGlobalDispatcher(agent())
    try {
      const response = await globalFetch(servers.api.url('/me'))
      const other = await globalFetch(servers.other.url('/me'))
      await Promise.all([response.arrayBuffer(), other.arrayBuffer()])

      expect(response.status).toBe(200)
      expect(other.status).toBe(401)
      expect(auth(servers.api.seen)).toEqual([expect.stringMatching(/^Bearer at-/)])
      expect(auth(servers.other.seen)).toEqual([undefined])
    } finally {
      undici.setGlobalDispatcher(previous)
    }
  })

  it("gives a hop of fetch's own redirects to another origin neither token nor static headers", async () => {
    const dispatcher = agent({ headers: { 'x-api-key': 'k' } })
    const to = encodeURIComponent(servers.other.url('/landing'))

    const response = await fetch(servers.api.url(`/redirect?to=${to}`), { dispatcher })
    await response.arrayBuffer()

    expect(response.url).toBe(servers.other.url('/landing'))
    expect(servers.api.sentTo('/redirect')[0]?.headers['x-api-key']).toBe('k')
    expect(servers.other.sentTo('/landing')).toHaveLength(1)
    expect(servers.other.sentTo('/landing')[0]?.headers).not.toHaveProperty('authorization')
    expect(servers.other.sentTo('/landing')[0]?.headers).not.toHaveProperty('x-api-key')
  })

  it("retries a GET from undici's fetch once after a 401", async () => {
    const dispatcher = agent()
    await (await fetch(servers.api.url('/warm-up'), { dispatcher })).arrayBuffer()
    servers.revokeAll()

    const response = await fetch(servers.api.url('/me'), { dispatcher })

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ method: 'GET', body: '' })
    expect(servers.api.sentTo('/me')).toHaveLength(2)
    expect(servers.tokens.seen).toHaveLength(2)
  })

  it.each(['request', 'fetch'] as const)(
    'rejects a %s aborted while its token is awaited, and the token request goes on',
    async (api) => {
      const dispatcher = agent()
      const held = servers.holdTokens()
      const controller = new AbortController()
      const url = servers.api.url('/aborted')
      const { signal } = controller
      const aborted =
        api === 'request'
          ? request(url, { dispatcher, signal })
          : fetch(url, { dispatcher, signal })
      const other = request(servers.api.url('/other'), { dispatcher })
      await held.arrived

      controller.abort()
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
      held.release()
      const response = await other
      await response.body.dump()

      expect(response.statusCode).toBe(200)
      expect(servers.api.sentTo('/aborted')).toHaveLength(0)
      expect(servers.tokens.seen).toHaveLength(1)
    },
  )

  it('fails the request with the token error, without the secret', async () => {
    manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: servers.other.url('/no-token-here'),
        clientId: 'id',
        clientSecret: 'hunter2-secret',
      }),
      retry: { retries: 0 },
    })

    const error = await request(servers.api.url('/me'), { dispatcher: agent() }).catch((e) => e)

    expect(isOAuthInterceptorsError(error)).toBe(true)
    expect(String(error.message)).not.toContain('hunter2-secret')
    expect(servers.api.seen).toHaveLength(0)
  })
})
