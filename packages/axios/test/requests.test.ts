import { ConfigError, createTokenManager } from '@oauth-interceptors/core'
import axios from 'axios'
import { describe, expect, it } from 'vitest'
import { oauthInterceptor } from '../src/index'
import { countByPath, startApi, startServer, startTokenServer } from './helpers'

describe('which requests carry the token', () => {
  it('adds Authorization: Bearer <token> to requests for the baseURL origin, reading it from core each time', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: `${api.origin}/v1` })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    await client.get('/orders')
    await client.post('/orders', { id: 1 })

    expect(api.seen.map((request) => [request.method, request.path])).toEqual([
      ['GET', '/v1/orders'],
      ['POST', '/v1/orders'],
    ])
    expect(api.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      'Bearer at-1',
    ])
    expect(auth.seen).toHaveLength(1)
  })

  it('100 concurrent requests on a cold cache make 1 token request and all succeed', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.get(`/items/${i}`)),
    )

    expect(auth.seen).toHaveLength(1)
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(api.seen).toHaveLength(100)
  })

  it('sends no token and no static header to an origin that is not allowed', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const other = await startServer()
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant(), headers: { 'x-api-key': 'k-1' } }).attach(client)

    await client.get(`${other.origin}/elsewhere`)
    await client.get('/mine')

    expect(other.seen[0]?.headers).not.toHaveProperty('authorization')
    expect(other.seen[0]?.headers).not.toHaveProperty('x-api-key')
    expect(api.seen[0]?.headers).toMatchObject({
      authorization: 'Bearer at-1',
      'x-api-key': 'k-1',
    })
  })

  it('sends the token to every origin listed in `origins`, and only there', async () => {
    const auth = await startTokenServer()
    const first = await startApi(new Set(['at-1']))
    const second = await startApi(new Set(['at-1']))
    const third = await startServer()
    const client = axios.create()
    oauthInterceptor({ grant: auth.grant(), origins: [first.origin, second.origin] }).attach(client)

    await client.get(`${first.origin}/a`)
    await client.get(`${second.origin}/b`)
    await client.get(`${third.origin}/c`)

    expect(first.seen[0]?.headers.authorization).toBe('Bearer at-1')
    expect(second.seen[0]?.headers.authorization).toBe('Bearer at-1')
    expect(third.seen[0]?.headers).not.toHaveProperty('authorization')
  })

  it('skips auth for a request with { skipAuth: true }, without a token request', async () => {
    const auth = await startTokenServer()
    const api = await startServer()
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant(), headers: { 'x-api-key': 'k-1' } }).attach(client)

    await client.get('/health', { skipAuth: true })

    expect(api.seen[0]?.headers).not.toHaveProperty('authorization')
    expect(api.seen[0]?.headers).not.toHaveProperty('x-api-key')
    expect(auth.seen).toHaveLength(0)
  })

  it('never adds the token to a request for the token endpoint, even on an allowed origin', async () => {
    const auth = await startTokenServer()
    const client = axios.create({ baseURL: auth.origin })
    const interceptor = oauthInterceptor({ grant: auth.grant() })
    interceptor.attach(client)
    await interceptor.manager.getToken()

    await client.post('/oauth/token?x=1', 'grant_type=client_credentials')

    expect(auth.seen).toHaveLength(2)
    expect(auth.seen[1]?.headers.authorization).toBeUndefined()
  })

  it('fails at attach when the instance has no baseURL and no origins were given', async () => {
    const auth = await startTokenServer()
    const interceptor = oauthInterceptor({ grant: auth.grant() })

    const attaching = () => interceptor.attach(axios.create())

    expect(attaching).toThrow(ConfigError)
    expect(attaching).toThrow(/origins/)
    expect(attaching).toThrow(/axios instance/)
  })

  it("an adapter axios cannot load fails the request with axios' own error, sending nothing", async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: api.origin, adapter: 'no-such-adapter' as 'http' })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    await expect(client.get('/orders')).rejects.toThrow(/Unknown adapter 'no-such-adapter'/)
    expect(api.seen).toHaveLength(0)
    expect(auth.seen).toHaveLength(0)
  })

  it('works with the default axios instance, and detach leaves it as it was', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const handlers = (manager: { handlers?: unknown[] }) =>
      (manager.handlers ?? []).filter(Boolean).length
    const before = [handlers(axios.interceptors.request), handlers(axios.interceptors.response)]

    const detach = oauthInterceptor({ grant: auth.grant(), origins: api.origin }).attach(axios)
    await axios.get(`${api.origin}/with`)
    detach()
    await axios.get(`${api.origin}/without`).catch(() => undefined)

    expect(api.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      undefined,
    ])
    expect([handlers(axios.interceptors.request), handlers(axios.interceptors.response)]).toEqual(
      before,
    )
  })

  it("runs the user's own request interceptors, registered before and after attach", async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: api.origin })
    const seenByUser: unknown[] = []
    client.interceptors.request.use((config) => {
      config.headers.set('x-before', '1')
      seenByUser.push(config.headers.get('authorization'))
      return config
    })
    oauthInterceptor({ grant: auth.grant() }).attach(client)
    client.interceptors.request.use((config) => {
      config.headers.set('x-after', '1')
      return config
    })

    await client.get('/x')

    expect(api.seen[0]?.headers).toMatchObject({
      authorization: 'Bearer at-1',
      'x-before': '1',
      'x-after': '1',
    })
    // axios runs request interceptors last-registered first: the earlier one sees the token.
    expect(seenByUser).toEqual(['Bearer at-1'])
  })
})

describe('header modes', () => {
  it('writes the raw token with scheme: false', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']), { scheme: '' })
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant(), scheme: false }).attach(client)

    await client.get('/x')

    expect(api.seen[0]?.headers.authorization).toBe('at-1')
  })

  it('writes the token to a custom header, with static headers, and no Authorization', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']), { header: 'x-access-token', scheme: '' })
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({
      grant: auth.grant(),
      header: 'X-Access-Token',
      scheme: false,
      headers: { 'x-api-key': 'k-1' },
    }).attach(client)

    const response = await client.get('/x')

    expect(response.status).toBe(200)
    expect(api.seen[0]?.headers).toMatchObject({ 'x-access-token': 'at-1', 'x-api-key': 'k-1' })
    expect(api.seen[0]?.headers).not.toHaveProperty('authorization')
  })

  it("uses the token's own type with scheme: 'token_type'", async () => {
    const auth = await startTokenServer((n) => [
      200,
      { access_token: `at-${n}`, token_type: 'PoP' },
    ])
    const api = await startApi(new Set(['at-1']), { scheme: 'PoP ' })
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant(), tokenTypes: ['PoP'], scheme: 'token_type' }).attach(
      client,
    )

    await client.get('/x')

    expect(api.seen[0]?.headers.authorization).toBe('PoP at-1')
  })
})

describe('one manager, several instances', () => {
  it('two instances sharing one interceptor make 1 token request per burst, also after a revoke', async () => {
    const auth = await startTokenServer()
    const valid = new Set(['at-1'])
    const orders = await startApi(valid)
    const billing = await startApi(valid)
    const interceptor = oauthInterceptor({ grant: auth.grant() })
    const first = axios.create({ baseURL: orders.origin })
    const second = axios.create({ baseURL: billing.origin })
    interceptor.attach(first)
    interceptor.attach(second)
    const burst = (name: string) =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) => [
          first.get(`/${name}/${i}`),
          second.get(`/${name}/${i}`),
        ]).flat(),
      )

    const cold = await burst('cold')
    expect(auth.seen).toHaveLength(1)
    valid.clear()
    valid.add('at-2')
    const revoked = await burst('revoked')

    expect(auth.seen).toHaveLength(2)
    expect([...cold, ...revoked].every((response) => response.status === 200)).toBe(true)
    for (const server of [orders, billing]) {
      expect(Math.max(...countByPath(server.seen).values())).toBeLessThanOrEqual(2)
    }
  })

  it('a manager created once serves an axios interceptor passed { manager }', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const manager = createTokenManager({ grant: auth.grant() })
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ manager, headers: { 'x-api-key': 'k-1' } }).attach(client)
    await manager.getToken()

    await client.get('/x')

    expect(auth.seen).toHaveLength(1)
    expect(api.seen[0]?.headers).toMatchObject({ authorization: 'Bearer at-1', 'x-api-key': 'k-1' })
  })

  it('accepts a TokenManager as the whole config', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: api.origin })
    const interceptor = oauthInterceptor(createTokenManager({ grant: auth.grant() }))
    interceptor.attach(client)

    await client.get('/x')

    expect(api.seen[0]?.headers.authorization).toBe('Bearer at-1')
  })
})
