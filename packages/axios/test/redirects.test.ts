import type { RequestPolicyOptions } from '@oauth-interceptors/core'
import axios, { AxiosError } from 'axios'
import { describe, expect, it } from 'vitest'
import { oauthInterceptor } from '../src/index'
import { startApi, startServer, startTokenServer } from './helpers'

/** Server A answers /go with a real 302 to `target` (a path on A, or a URL on server B). */
async function redirecting(policy: RequestPolicyOptions, target: (b: string) => string) {
  const auth = await startTokenServer()
  const b = await startServer()
  const a = await startServer((request) =>
    request.path.split('?')[0] === '/go'
      ? [302, undefined, { location: target(b.origin) }]
      : [200, { at: 'a' }],
  )
  const client = axios.create({ baseURL: a.origin })
  oauthInterceptor({ grant: auth.grant(), ...policy }).attach(client)
  return { auth, a, b, client }
}

describe('redirects', () => {
  it('a 302 to another origin drops the Authorization token and the static headers', async () => {
    const { a, b, client } = await redirecting(
      { headers: { 'x-api-key': 'k-1' } },
      (origin) => `${origin}/landing`,
    )

    const response = await client.get('/go')

    expect(response.status).toBe(200)
    expect(a.seen[0]?.headers).toMatchObject({ authorization: 'Bearer at-1', 'x-api-key': 'k-1' })
    expect(b.seen.map((request) => request.path)).toEqual(['/landing'])
    expect(b.seen[0]?.headers).not.toHaveProperty('authorization')
    expect(b.seen[0]?.headers).not.toHaveProperty('x-api-key')
  })

  it('a 302 to another origin drops a custom token header, which follow-redirects would keep', async () => {
    const { a, b, client } = await redirecting(
      { header: 'X-Access-Token', scheme: false, headers: { 'x-api-key': 'k-1' } },
      (origin) => `${origin}/landing`,
    )

    await client.get('/go')

    expect(a.seen[0]?.headers).toMatchObject({ 'x-access-token': 'at-1', 'x-api-key': 'k-1' })
    expect(b.seen[0]?.headers).not.toHaveProperty('x-access-token')
    expect(b.seen[0]?.headers).not.toHaveProperty('x-api-key')
  })

  it('a redirect within the allowed origin keeps the token', async () => {
    const { a, client } = await redirecting(
      { header: 'x-access-token', headers: { 'x-api-key': 'k-1' } },
      () => '/landing',
    )

    await client.get('/go')

    expect(a.seen.map((request) => [request.path, request.headers['x-access-token']])).toEqual([
      ['/go', 'Bearer at-1'],
      ['/landing', 'Bearer at-1'],
    ])
    expect(a.seen[1]?.headers['x-api-key']).toBe('k-1')
  })

  it("still calls the user's beforeRedirect, after the headers are gone", async () => {
    const { client } = await redirecting(
      { header: 'x-access-token' },
      (origin) => `${origin}/landing`,
    )
    const seenByUser: Array<Record<string, unknown>> = []
    client.defaults.beforeRedirect = (options) => {
      seenByUser.push({ ...options.headers })
    }

    await client.get('/go')

    expect(seenByUser).toHaveLength(1)
    expect(seenByUser[0]).not.toHaveProperty('x-access-token')
  })

  describe("with axios' fetch adapter (no beforeRedirect there)", () => {
    it('a 302 to another origin carries neither the custom token header nor the static header', async () => {
      const { a, b, client } = await redirecting(
        { header: 'x-access-token', headers: { 'x-api-key': 'k-1' } },
        (origin) => `${origin}/landing?q=1`,
      )

      const response = await client.get('/go', { adapter: 'fetch', params: { page: 2 } })

      expect(response.status).toBe(200)
      expect(response.data).toEqual({ ok: true })
      expect(a.seen.map((request) => request.path)).toEqual(['/go?page=2'])
      expect(a.seen[0]?.headers).toMatchObject({
        'x-access-token': 'Bearer at-1',
        'x-api-key': 'k-1',
      })
      expect(b.seen.map((request) => request.path)).toEqual(['/landing?q=1'])
      expect(b.seen[0]?.headers).not.toHaveProperty('x-access-token')
      expect(b.seen[0]?.headers).not.toHaveProperty('x-api-key')
    })

    it('a redirect within the allowed origin keeps both headers, and a POST becomes a GET on a 302', async () => {
      const { auth, a, client } = await redirecting(
        { header: 'x-access-token', headers: { 'x-api-key': 'k-1' } },
        () => '/landing',
      )

      await client.post('/go', { id: 1 }, { adapter: 'fetch' })

      expect(a.seen.map((request) => [request.method, request.path, request.body])).toEqual([
        ['POST', '/go', '{"id":1}'],
        ['GET', '/landing', ''],
      ])
      expect(a.seen[1]?.headers).toMatchObject({
        'x-access-token': 'Bearer at-1',
        'x-api-key': 'k-1',
      })
      expect(auth.seen).toHaveLength(1)
    })

    it("a caller's maxRedirects: 0 still gets the 302 itself", async () => {
      const { a, b, client } = await redirecting(
        { headers: { 'x-api-key': 'k-1' } },
        (origin) => `${origin}/landing`,
      )

      const response = await client.get('/go', {
        adapter: 'fetch',
        maxRedirects: 0,
        validateStatus: () => true,
      })

      expect(response.status).toBe(302)
      expect(a.seen).toHaveLength(1)
      expect(b.seen).toHaveLength(0)
    })

    it('with only the default Authorization header, fetch follows the redirect and drops it', async () => {
      const { b, client } = await redirecting({}, (origin) => `${origin}/landing`)

      const response = await client.get('/go', { adapter: 'fetch' })

      expect(response.status).toBe(200)
      expect(b.seen).toHaveLength(1)
      expect(b.seen[0]?.headers).not.toHaveProperty('authorization')
    })
  })

  it('a 401 from the other origin after a redirect starts no refresh', async () => {
    const auth = await startTokenServer()
    const b = await startApi(new Set())
    const a = await startServer(() => [302, undefined, { location: `${b.origin}/landing` }])
    const client = axios.create({ baseURL: a.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/go').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(AxiosError)
    expect(error).toMatchObject({ response: { status: 401 } })
    expect(a.seen).toHaveLength(1)
    expect(b.seen).toHaveLength(1)
    expect(auth.seen).toHaveLength(1)
  })

  it.each([['http'], ['fetch']] as const)(
    'keeps the token on a hop between two allowed origins (%s adapter), which follow-redirects would drop',
    async (adapter) => {
      const auth = await startTokenServer()
      const b = await startServer()
      const a = await startServer(() => [302, undefined, { location: `${b.origin}/landing` }])
      const client = axios.create({ baseURL: a.origin, adapter })
      oauthInterceptor({ grant: auth.grant(), origins: [a.origin, b.origin] }).attach(client)

      expect((await client.get('/go')).status).toBe(200)

      expect(b.seen[0]?.headers.authorization).toBe(a.seen[0]?.headers.authorization)
      expect(b.seen[0]?.headers.authorization).toMatch(/^Bearer /)
      expect(auth.seen).toHaveLength(1)
    },
  )

  it('a 401 from another origin after a redirect starts no refresh with the fetch adapter either', async () => {
    const auth = await startTokenServer()
    const b = await startApi(new Set())
    const a = await startServer(() => [302, undefined, { location: `${b.origin}/landing` }])
    const client = axios.create({ baseURL: a.origin, adapter: 'fetch' })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/go').catch((caught: unknown) => caught)

    expect(error).toMatchObject({ response: { status: 401 } })
    expect(b.seen).toHaveLength(1)
    expect(b.seen[0]?.headers).not.toHaveProperty('authorization')
    expect(auth.seen).toHaveLength(1)
  })
})
