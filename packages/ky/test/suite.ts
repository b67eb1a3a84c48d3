import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  type TokenManager,
} from '@oauth-interceptors/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { oauthOptions } from '../src/index'
import { startOAuthWorld } from './servers'

type Options = Record<string, unknown>
type ResponsePromise = Promise<Response> & { json(): Promise<unknown> }

/** The part of ky (1 or 2) the suite drives; both major versions fit it. */
export interface KyUnderTest {
  create(options: Options): (url: string, options?: Options) => ResponsePromise
  HTTPError: abstract new (...args: never[]) => Error & { response: Response }
  TimeoutError: abstract new (...args: never[]) => Error
  /** The option that prefixes relative URLs: `prefixUrl` in ky 1, `prefix` in ky 2. */
  prefixOption: 'prefixUrl' | 'prefix'
}

/** The behaviour every version of ky must show; called once per ky version. */
export function describeOAuthHooks(name: string, ky: KyUnderTest): void {
  describe(name, () => {
    let world: Awaited<ReturnType<typeof startOAuthWorld>>
    let manager: TokenManager

    beforeEach(async () => {
      world = await startOAuthWorld()
      manager = createTokenManager({
        grant: clientCredentials({
          tokenUrl: world.tokenUrl,
          clientId: 'svc',
          clientSecret: 's3cret',
        }),
      })
    })
    afterEach(() => world.close())

    /** A ky instance on the API server with the hooks of `config` (plus `origins`). */
    const client = (config: Options = {}, kyOptions: Options = {}) =>
      ky.create({
        [ky.prefixOption]: world.api.origin,
        ...oauthOptions({ manager, origins: world.api.origin, ...config }),
        ...kyOptions,
      })
    const range = (n: number) => Array.from({ length: n }, (_, i) => i)
    const apiPaths = () => world.api.seen.map((request) => request.path)

    it('starts one token request for 100 concurrent requests on a cold cache', async () => {
      const api = client()
      const responses = await Promise.all(range(100).map((i) => api(`items/${i}`)))
      expect(responses.map((response) => response.status)).toEqual(range(100).map(() => 200))
      expect(world.tokens.seen).toHaveLength(1)
      expect(world.api.seen).toHaveLength(100)
      expect(new Set(world.api.seen.map((r) => r.headers.authorization))).toEqual(
        new Set(['Bearer at-1']),
      )
    })

    it('after the token is revoked, 100 concurrent 401s start one token request and each request is sent at most twice', async () => {
      const api = client()
      await api('warm-up')
      world.revokeAll()
      world.reset()
      const responses = await Promise.all(range(100).map((i) => api(`items/${i}`)))
      expect(responses.map((response) => response.status)).toEqual(range(100).map(() => 200))
      expect(world.tokens.seen).toHaveLength(1)
      const sends = new Map<string, number>()
      for (const path of apiPaths()) sends.set(path, (sends.get(path) ?? 0) + 1)
      expect(sends.size).toBe(100)
      expect(Math.max(...sends.values())).toBeLessThanOrEqual(2)
      expect(world.api.seen.filter((r) => r.headers.authorization === 'Bearer at-2')).toHaveLength(
        100,
      )
    })

    it('one manager shared by two ky instances makes one token request per burst', async () => {
      const first = client()
      const second = client()
      await Promise.all(range(50).flatMap((i) => [first(`a/${i}`), second(`b/${i}`)]))
      expect(world.tokens.seen).toHaveLength(1)
      expect(world.api.seen).toHaveLength(100)
    })

    // ky joins prefixes to absolute URLs too: requests to other origins use a bare instance.
    const bare = { [ky.prefixOption]: '' }

    it('sends no token to an origin that is not allowed', async () => {
      const api = client({ headers: { 'x-api-key': 'k-1' } }, bare)
      const response = await api(`${world.other.origin}/elsewhere`)
      expect(response.status).toBe(200)
      expect(world.other.seen).toHaveLength(1)
      expect(world.other.seen[0]?.headers.authorization).toBeUndefined()
      expect(world.other.seen[0]?.headers['x-api-key']).toBeUndefined()
      expect(world.tokens.seen).toHaveLength(0)
    })

    it('never adds the token to requests for the token endpoint, even with origins "*"', async () => {
      const api = client({ origins: '*' }, bare)
      await api(world.tokenUrl, { method: 'post' })
      expect(world.tokens.seen).toHaveLength(1)
      expect(world.tokens.seen[0]?.headers.authorization).toBeUndefined()
    })

    it('skips auth for a request with skipAuth: true', async () => {
      const api = client({ headers: { 'x-api-key': 'k-1' } })
      await expect(api('public', { skipAuth: true })).rejects.toBeInstanceOf(ky.HTTPError)
      expect(world.api.seen[0]?.headers.authorization).toBeUndefined()
      expect(world.api.seen[0]?.headers['x-api-key']).toBeUndefined()
      expect(world.tokens.seen).toHaveLength(0)
    })

    describe('header modes', () => {
      it('writes "Bearer <token>" by default', async () => {
        await client()('me')
        expect(world.api.seen[0]?.headers.authorization).toBe('Bearer at-1')
      })

      it('writes the raw token with scheme: false', async () => {
        await client({ scheme: false })('me')
        expect(world.api.seen[0]?.headers.authorization).toBe('at-1')
      })

      it("writes the token's own type with scheme: 'token_type'", async () => {
        world.setTokenType('Custom')
        manager = createTokenManager({
          grant: clientCredentials({
            tokenUrl: world.tokenUrl,
            clientId: 'svc',
            clientSecret: 's3cret',
          }),
          tokenTypes: ['Custom'],
        })
        await client({ scheme: 'token_type' })('me')
        expect(world.api.seen[0]?.headers.authorization).toBe('Custom at-1')
      })

      it('writes a custom header and static headers', async () => {
        world.api.handle((request) =>
          request.headers['x-access-token'] === 'at-1' ? [200, {}] : [401, {}],
        )
        await client({ header: 'X-Access-Token', scheme: false, headers: { 'x-api-key': 'k-1' } })(
          'me',
        )
        expect(world.api.seen[0]?.headers).toMatchObject({
          'x-access-token': 'at-1',
          'x-api-key': 'k-1',
        })
        expect(world.api.seen[0]?.headers.authorization).toBeUndefined()
      })
    })

    describe('refresh on a rejected token', () => {
      it('refreshes once and retries a POST with the same JSON body', async () => {
        const api = client()
        await api('warm-up')
        world.revokeAll()
        world.reset()
        const body = await api('orders', { method: 'post', json: { qty: 2 } }).json()
        expect(body).toEqual({ path: '/orders' })
        expect(world.api.seen.map((r) => [r.method, r.body, r.headers.authorization])).toEqual([
          ['POST', '{"qty":2}', 'Bearer at-1'],
          ['POST', '{"qty":2}', 'Bearer at-2'],
        ])
      })

      it('refreshes once and retries a POST with a FormData body, with the same fields', async () => {
        const api = client()
        await api('warm-up')
        world.revokeAll()
        world.reset()
        const form = new FormData()
        form.append('name', 'report')
        form.append('file', new Blob(['a,b\n1,2'], { type: 'text/csv' }), 'report.csv')
        const response = await api('files', { method: 'post', body: form })
        expect(response.status).toBe(200)
        expect(world.api.seen.map((r) => [r.method, r.headers.authorization])).toEqual([
          ['POST', 'Bearer at-1'],
          ['POST', 'Bearer at-2'],
        ])
        for (const request of world.api.seen) {
          expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
          expect(request.body).toMatch(/name="name"\r\n\r\nreport\r\n/)
          expect(request.body).toMatch(
            /filename="report.csv"\r\nContent-Type: text\/csv\r\n\r\na,b\n1,2\r\n/,
          )
        }
      })

      it('retries once on a 401 that persists, then throws ky HTTPError (ky retry adds no send)', async () => {
        world.api.handle(() => [401, { error: 'invalid_token' }])
        const error = await client()('me').catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(ky.HTTPError)
        expect((error as InstanceType<KyUnderTest['HTTPError']>).response.status).toBe(401)
        expect(world.api.seen.map((r) => r.headers.authorization)).toEqual([
          'Bearer at-1',
          'Bearer at-2',
        ])
        expect(world.tokens.seen).toHaveLength(2)
      })

      it('returns the second 401 as a response with throwHttpErrors: false', async () => {
        world.api.handle(() => [401, {}])
        const response = await client({}, { throwHttpErrors: false })('me')
        expect(response.status).toBe(401)
        expect(world.api.seen).toHaveLength(2)
      })

      it('does not refresh on a 403', async () => {
        world.api.handle(() => [403, { error: 'insufficient_scope' }])
        await expect(client()('me')).rejects.toBeInstanceOf(ky.HTTPError)
        expect(world.api.seen).toHaveLength(1)
        expect(world.tokens.seen).toHaveLength(1)
      })

      it('refreshes on a Bearer error="invalid_token" challenge with another status', async () => {
        let first = true
        world.api.handle(() => {
          if (!first) return [200, {}]
          first = false
          return [400, {}, { 'www-authenticate': 'Bearer error="invalid_token"' }]
        })
        expect((await client()('me')).status).toBe(200)
        expect(world.api.seen.map((r) => r.headers.authorization)).toEqual([
          'Bearer at-1',
          'Bearer at-2',
        ])
      })

      it('surfaces the 401 of a stream body instead of re-sending it, and drops the token', async () => {
        const api = client()
        await api('warm-up')
        world.revokeAll()
        world.reset()
        const stream = new Blob(['chunk']).stream()
        const error = await api('upload', { method: 'post', body: stream }).catch(
          (caught: unknown) => caught,
        )
        expect(error).toBeInstanceOf(ky.HTTPError)
        expect(world.api.seen.map((r) => r.body)).toEqual(['chunk'])
        // The rejected token is not used again: the next request starts with a new one.
        expect((await api('after')).status).toBe(200)
        expect(world.tokens.seen).toHaveLength(1)
        expect(world.api.seen[1]?.headers.authorization).toBe('Bearer at-2')
      })

      it("with retry: 0 still refreshes and re-sends once: the auth retry is not ky's", async () => {
        const api = client({}, { retry: 0 })
        await api('warm-up')
        world.revokeAll()
        world.reset()
        expect((await api('me')).status).toBe(200)
        expect(world.api.seen.map((r) => r.headers.authorization)).toEqual([
          'Bearer at-1',
          'Bearer at-2',
        ])
        expect(world.tokens.seen).toHaveLength(1)
      })
    })

    describe("token-endpoint failures under ky's default retry", () => {
      const failing = (reply: () => [number, unknown]) => {
        world.tokens.handle(reply)
        manager = createTokenManager({
          grant: clientCredentials({
            tokenUrl: world.tokenUrl,
            clientId: 'svc',
            clientSecret: 'wrong',
          }),
          retry: { retries: 2, minDelay: 1, maxDelay: 5 },
        })
      }

      it('a wrong secret makes exactly one token request and rejects with the OAuthError', async () => {
        failing(() => [401, { error: 'invalid_client' }])
        await expect(client()('me')).rejects.toMatchObject({
          name: 'OAuthError',
          code: 'invalid_client',
        })
        expect(world.tokens.seen).toHaveLength(1)
        expect(world.api.seen).toHaveLength(0)
      })

      it("an endpoint that always answers 500 makes core's 3 attempts, not 3 × ky's", async () => {
        failing(() => [500, {}])
        await expect(client()('me')).rejects.toMatchObject({ code: 'http_error', status: 500 })
        expect(world.tokens.seen).toHaveLength(3)
      })
    })

    describe('redirects', () => {
      const redirecting = (status: number, location: () => string) => {
        world.api.handle((request) =>
          request.path.startsWith('/redirect')
            ? [status, {}, { location: location() }]
            : [200, { path: request.path, auth: request.headers.authorization ?? null }],
        )
      }

      it('a 302 to another origin drops the default Authorization header', async () => {
        redirecting(302, () => `${world.other.origin}/landing`)
        const response = await client()('redirect')
        expect(response.status).toBe(200)
        expect(world.api.seen[0]?.headers.authorization).toBe('Bearer at-1')
        expect(world.other.seen).toHaveLength(1)
        expect(world.other.seen[0]?.headers.authorization).toBeUndefined()
      })

      it('does not refresh on a 401 from another origin that fetch redirected to', async () => {
        redirecting(302, () => `${world.other.origin}/landing`)
        world.other.handle(() => [401, {}])
        await expect(client()('redirect')).rejects.toBeInstanceOf(ky.HTTPError)
        expect(world.api.seen).toHaveLength(1)
        expect(world.tokens.seen).toHaveLength(1)
      })

      it('a 302 to another origin drops a custom token header and static headers', async () => {
        redirecting(302, () => `${world.other.origin}/landing`)
        const api = client({
          header: 'x-access-token',
          scheme: false,
          headers: { 'x-api-key': 'k-1' },
        })
        const response = await api('redirect', { headers: { 'x-trace': 't-1' } })
        expect(response.status).toBe(200)
        expect(response.url).toBe(`${world.other.origin}/landing`)
        expect(world.api.seen[0]?.headers).toMatchObject({
          'x-access-token': 'at-1',
          'x-api-key': 'k-1',
        })
        const landed = world.other.seen[0]?.headers
        expect(landed?.['x-access-token']).toBeUndefined()
        expect(landed?.['x-api-key']).toBeUndefined()
        expect(landed?.['x-trace']).toBe('t-1')
      })

      it('a same-origin 307 keeps the custom headers, the method and the body', async () => {
        redirecting(307, () => '/moved')
        const api = client({
          header: 'x-access-token',
          scheme: false,
          headers: { 'x-api-key': 'k-1' },
        })
        await api('redirect', { method: 'post', json: { a: 1 } })
        expect(
          world.api.seen.map((r) => [
            r.method,
            r.path,
            r.body,
            r.headers['x-access-token'],
            r.headers['x-api-key'],
          ]),
        ).toEqual([
          ['POST', '/redirect', '{"a":1}', 'at-1', 'k-1'],
          ['POST', '/moved', '{"a":1}', 'at-1', 'k-1'],
        ])
      })

      it('a 303 after a POST continues as a GET without the body', async () => {
        redirecting(303, () => '/result')
        const api = client({ headers: { 'x-api-key': 'k-1' } })
        await api('redirect', { method: 'post', json: { a: 1 } })
        expect(world.api.seen.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
          ['POST', '{"a":1}', 'application/json'],
          ['GET', '', undefined],
        ])
      })
    })

    describe('abort and timeout', () => {
      it("ky's timeout bounds the wait for a token and rejects with ky's TimeoutError", async () => {
        world.tokens.handle(() => new Promise<void>(() => {}))
        const started = Date.now()
        await expect(client({}, { timeout: 100 })('me')).rejects.toBeInstanceOf(ky.TimeoutError)
        expect(Date.now() - started).toBeLessThan(2_000)
        expect(world.tokens.seen).toHaveLength(1)
        expect(world.api.seen).toHaveLength(0)
      })

      it("ky's timeout still applies to a request that carries the token", async () => {
        world.api.handle(() => new Promise<void>(() => {}))
        await expect(client({}, { timeout: 50, retry: 0 })('slow')).rejects.toBeInstanceOf(
          ky.TimeoutError,
        )
        expect(world.api.seen).toHaveLength(1)
      })

      it('an abort signal stops the request while it waits for the API', async () => {
        const controller = new AbortController()
        world.api.handle(() => {
          controller.abort()
          return new Promise<void>(() => {})
        })
        await expect(client()('slow', { signal: controller.signal })).rejects.toMatchObject({
          name: 'AbortError',
        })
      })

      it('an abort signal stops the request while it waits for a token', async () => {
        const controller = new AbortController()
        world.tokens.handle(() => {
          controller.abort()
          return new Promise<void>(() => {})
        })
        await expect(client()('me', { signal: controller.signal })).rejects.toMatchObject({
          name: 'AbortError',
        })
        expect(world.api.seen).toHaveLength(0)
      })
    })

    it.each([
      ['the instance prefix option', ky.prefixOption],
      ["ky 2's baseUrl", 'baseUrl'],
    ] as const)(
      'takes the default origins from %s passed to oauthOptions',
      async (_name, option) => {
        const api = ky.create({
          [ky.prefixOption]: world.api.origin,
          ...oauthOptions({ manager }, { [option]: `${world.api.origin}/v1/` }),
        })
        const elsewhere = ky.create({
          [ky.prefixOption]: '',
          ...oauthOptions({ manager }, { [option]: world.api.origin }),
        })
        expect((await api('me')).status).toBe(200)
        expect((await elsewhere(`${world.other.origin}/x`)).status).toBe(200)
        expect(world.api.seen[0]?.headers.authorization).toBe('Bearer at-1')
        expect(world.other.seen[0]?.headers.authorization).toBeUndefined()
        expect(world.tokens.seen).toHaveLength(1)
      },
    )

    it('resolves a relative ky 2 prefix against baseUrl for the default origins', async () => {
      const auth = oauthOptions({ manager }, { prefix: '/api', baseUrl: world.api.origin })
      const api = ky.create({ [ky.prefixOption]: world.api.origin, ...auth })
      await api('me')
      expect(world.api.seen[0]?.headers.authorization).toBe('Bearer at-1')
    })

    it('fails at setup with an error that explains origins when none is given', () => {
      const error = (() => {
        try {
          oauthOptions({ manager })
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(/origins/)
      expect((error as Error).message).toMatch(/prefixUrl/)
    })
  })
}
