import { Readable } from 'node:stream'
import { OAuthError, type RequestPolicyOptions } from '@oauth-interceptors/core'
import axios, { AxiosError } from 'axios'
import { describe, expect, it } from 'vitest'
import { oauthInterceptor } from '../src/index'
import { countByPath, startApi, startServer, startTokenServer } from './helpers'

/** An API that rejects `at-1` as revoked and accepts `at-2`. */
async function revokedSetup(options: RequestPolicyOptions = {}) {
  const auth = await startTokenServer()
  const api = await startApi(new Set(['at-2']))
  const client = axios.create({ baseURL: api.origin })
  const interceptor = oauthInterceptor({ grant: auth.grant(), ...options })
  interceptor.attach(client)
  // Warm the cache with at-1, which the API no longer accepts.
  await interceptor.manager.getToken()
  return { auth, api, client }
}

describe('refresh and retry on a rejected token', () => {
  it('after a revoke, 100 concurrent requests make 1 token request, all succeed, each sent at most twice', async () => {
    const { auth, api, client } = await revokedSetup()

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.get(`/items/${i}`)),
    )

    expect(auth.seen).toHaveLength(2)
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(countByPath(api.seen).size).toBe(100)
    expect(Math.max(...countByPath(api.seen).values())).toBe(2)
    expect(
      api.seen.filter((request) => request.headers.authorization === 'Bearer at-2'),
    ).toHaveLength(100)
  })

  it('retries once with the new token and the same body', async () => {
    const { api, client } = await revokedSetup()

    const response = await client.post('/orders', { id: 7 }, { headers: { 'x-trace': 't1' } })

    expect(response.data).toEqual({ ok: true, path: '/orders' })
    expect(api.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      'Bearer at-2',
    ])
    expect(api.seen.map((request) => request.body)).toEqual(['{"id":7}', '{"id":7}'])
    expect(api.seen.map((request) => request.headers['content-type'])).toEqual([
      'application/json',
      'application/json',
    ])
    expect(api.seen[1]?.headers['x-trace']).toBe('t1')
  })

  it('a 401 that persists: exactly one retry, then the AxiosError of the retry', async () => {
    const auth = await startTokenServer()
    const api = await startApi(new Set())
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/x').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(AxiosError)
    expect(error).toMatchObject({ response: { status: 401 } })
    expect(api.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      'Bearer at-2',
    ])
    expect(auth.seen).toHaveLength(2)
  })

  it('never refreshes on a 403', async () => {
    const auth = await startTokenServer()
    const api = await startServer(() => [
      403,
      { error: 'insufficient_scope' },
      { 'www-authenticate': 'Bearer error="insufficient_scope"' },
    ])
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/x').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(AxiosError)
    expect(error).toMatchObject({ response: { status: 403 } })
    expect(api.seen).toHaveLength(1)
    expect(auth.seen).toHaveLength(1)
  })

  it.each([
    [
      'WWW-Authenticate: Bearer error="invalid_token" on a 400',
      400,
      {
        'www-authenticate':
          'Bearer error="invalid_token", error_description="The token is expired"',
      },
    ],
    ['Token-Expired: true on a 419', 419, { 'token-expired': 'true' }],
  ])('refreshes on %s', async (_name, status, headers) => {
    const auth = await startTokenServer()
    const api = await startServer((request) =>
      request.headers.authorization === 'Bearer at-2' ? [200, { ok: true }] : [status, {}, headers],
    )
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const response = await client.get('/x')

    expect(response.status).toBe(200)
    expect(api.seen).toHaveLength(2)
    expect(auth.seen).toHaveLength(2)
  })

  it('follows a custom shouldRefresh', async () => {
    const auth = await startTokenServer()
    const api = await startServer((request) =>
      request.headers.authorization === 'Bearer at-2' ? [200, { ok: true }] : [440, {}],
    )
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({
      grant: auth.grant(),
      shouldRefresh: (response) => response.status === 440,
    }).attach(client)

    const response = await client.get('/x')

    expect(response.status).toBe(200)
    expect(auth.seen).toHaveLength(2)
  })

  it('also retries a 401 that validateStatus lets through, and resolves with the retry', async () => {
    const { api, client } = await revokedSetup()

    const response = await client.get('/x', { validateStatus: () => true })

    expect(response.status).toBe(200)
    expect(api.seen).toHaveLength(2)
  })

  it('does not replay a stream body: the 401 surfaces as an AxiosError, no refresh', async () => {
    const { auth, api, client } = await revokedSetup()

    const error = await client
      .post('/upload', Readable.from(['chunk-1', 'chunk-2']), {
        headers: { 'content-type': 'application/octet-stream' },
      })
      .catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(AxiosError)
    expect(error).toMatchObject({ response: { status: 401 } })
    expect(api.seen.map((request) => request.body)).toEqual(['chunk-1chunk-2'])
    expect(auth.seen).toHaveLength(1)
  })

  it('a stream body rejected with 401 drops the token: the next request carries a new one', async () => {
    const { auth, api, client } = await revokedSetup()

    await client.post('/upload', Readable.from(['chunk-1'])).catch(() => undefined)
    const response = await client.get('/after')

    expect(response.status).toBe(200)
    expect(auth.seen).toHaveLength(2)
    expect(api.seen.map((request) => [request.path, request.headers.authorization])).toEqual([
      ['/upload', 'Bearer at-1'],
      ['/after', 'Bearer at-2'],
    ])
  })

  it('retries a FormData body once with the same fields', async () => {
    const { api, client } = await revokedSetup()
    const form = new FormData()
    form.append('name', 'report')
    form.append('file', new Blob(['a,b\n1,2'], { type: 'text/csv' }), 'report.csv')

    const response = await client.post('/files', form)

    expect(response.status).toBe(200)
    expect(api.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      'Bearer at-2',
    ])
    for (const request of api.seen) {
      expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
      expect(request.body).toMatch(/name="name"\r\n\r\nreport\r\n/)
      expect(request.body).toMatch(
        /filename="report.csv"\r\nContent-Type: text\/csv\r\n\r\na,b\n1,2\r\n/,
      )
    }
  })

  it('does not retry a request that carried no token (skipAuth, other origin)', async () => {
    const { auth, api, client } = await revokedSetup()
    const other = await startApi(new Set())

    const skipped = await client.get('/x', { skipAuth: true }).catch((caught: unknown) => caught)
    const foreign = await client.get(`${other.origin}/x`).catch((caught: unknown) => caught)

    expect(skipped).toMatchObject({ response: { status: 401 } })
    expect(foreign).toMatchObject({ response: { status: 401 } })
    expect(api.seen).toHaveLength(1)
    expect(other.seen).toHaveLength(1)
    expect(auth.seen).toHaveLength(1)
  })

  it('a failed refresh rejects with the token endpoint error, and the request is not retried', async () => {
    const auth = await startTokenServer((n) =>
      n === 1
        ? [200, { access_token: 'at-1', token_type: 'Bearer' }]
        : [400, { error: 'invalid_client', error_description: 'client disabled' }],
    )
    const api = await startApi(new Set())
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/x').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({ code: 'invalid_client' })
    expect(String(error)).not.toContain('s3cret')
    expect(api.seen).toHaveLength(1)
  })
})
