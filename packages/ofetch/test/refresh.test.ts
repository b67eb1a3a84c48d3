import { inspect } from 'node:util'
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { FetchError, ofetch } from 'ofetch'
import { describe, expect, it } from 'vitest'
import { oauthOptions } from '../src/index'
import { useServers } from './servers'

const servers = useServers()

const grant = () =>
  clientCredentials({ tokenUrl: servers.api.tokenUrl, clientId: 'svc', clientSecret: 's3cret' })

const client = () =>
  ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))

/** The promise's rejection, to assert on (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<FetchError> {
  const error = await promise.then(
    () => expect.unreachable('expected the request to fail'),
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(FetchError)
  return error as FetchError
}

// 100 new connections at once take seconds on a small machine: a time limit, not an assertion.
describe('tokens under load', { timeout: 30_000 }, () => {
  it('100 concurrent requests on a cold cache start one token request and all succeed', async () => {
    const api = client()
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => api.raw(`/data?i=${i}`)),
    )
    expect(results.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(servers.api.tokenRequests()).toBe(1)
    expect(servers.api.apiRequests().map((request) => request.headers.authorization)).toEqual(
      Array(100).fill('Bearer at-1'),
    )
  })

  it('after the token is revoked, 100 concurrent 401s start one refresh and each request is sent at most twice', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => api.raw(`/data?i=${i}`)),
    )
    expect(results.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(servers.api.tokenRequests()).toBe(2)
    for (let i = 0; i < 100; i++) expect(servers.api.count(`/data?i=${i}`)).toBe(2)
    const retries = servers.api
      .apiRequests()
      .filter((r) => r.headers.authorization === 'Bearer at-2')
    expect(retries).toHaveLength(100)
  })

  it('one manager shared by two ofetch instances makes one token request per burst', async () => {
    const manager = createTokenManager({ grant: grant() })
    const a = ofetch.create(oauthOptions({ manager }, { baseURL: servers.api.origin }))
    const b = ofetch.create(oauthOptions(manager, { baseURL: `${servers.api.origin}/v2` }))
    const burst = () =>
      Promise.all(Array.from({ length: 25 }, (_, i) => [a(`/data?a${i}`), b(`/data?b${i}`)]).flat())
    await burst()
    expect(servers.api.tokenRequests()).toBe(1)
    servers.api.revoke()
    await burst()
    expect(servers.api.tokenRequests()).toBe(2)
  })
})

describe('refresh on 401', () => {
  it('retries a rejected request once, with the new token', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    // A long retryDelay of yours delays ofetch's own retries, not the auth retry.
    expect(await api('/data?x', { retryDelay: 60_000 })).toMatchObject({ ok: true })
    expect(
      servers.api.seen
        .filter((request) => request.path === '/data?x')
        .map((r) => r.headers.authorization),
    ).toEqual(['Bearer at-1', 'Bearer at-2'])
  })

  it('a 401 that persists is retried exactly once, then thrown as ofetch FetchError', async () => {
    const error = await rejection(client()('/always-401'))
    expect(error.status).toBe(401)
    expect(error.data).toEqual({ error: 'invalid_token' })
    expect(servers.api.count('/always-401')).toBe(2)
    expect(servers.api.tokenRequests()).toBe(2)
  })

  it('never refreshes on 403', async () => {
    const error = await rejection(client()('/forbidden'))
    expect(error.status).toBe(403)
    expect(servers.api.count('/forbidden')).toBe(1)
    expect(servers.api.tokenRequests()).toBe(1)
    // The error's options (ofetch's own) show no refresh token and no client secret.
    expect(inspect(error.options, { depth: 10, showHidden: true })).not.toMatch(/rt-secret|s3cret/)
  })

  it('retries a POST with its JSON body, although ofetch itself never retries POSTs', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    const result = await api('/data?post', { method: 'POST', body: { n: 1 } })
    expect(result).toMatchObject({ body: '{"n":1}' })
    const sent = servers.api.seen.filter((request) => request.path === '/data?post')
    expect(sent.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
      ['POST', '{"n":1}', 'application/json'],
      ['POST', '{"n":1}', 'application/json'],
    ])
  })

  it('retries a POST with a FormData body once, with the same fields', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    const form = new FormData()
    form.append('name', 'report')
    form.append('file', new Blob(['a,b\n1,2'], { type: 'text/csv' }), 'report.csv')
    await api('/data?form', { method: 'POST', body: form })
    const sent = servers.api.seen.filter((request) => request.path === '/data?form')
    expect(sent.map((r) => [r.method, r.headers.authorization])).toEqual([
      ['POST', 'Bearer at-1'],
      ['POST', 'Bearer at-2'],
    ])
    for (const request of sent) {
      expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
      expect(request.body).toMatch(/name="name"\r\n\r\nreport\r\n/)
      expect(request.body).toMatch(
        /filename="report.csv"\r\nContent-Type: text\/csv\r\n\r\na,b\n1,2\r\n/,
      )
    }
  })

  it('surfaces the 401 of a streamed body instead of a broken retry, and drops that token', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk'))
        controller.close()
      },
    })
    const error = await rejection(api('/data?stream', { method: 'POST', body }))
    expect(error.status).toBe(401)
    expect(servers.api.count('/data?stream')).toBe(1)
    expect(servers.api.seen.find((r) => r.path === '/data?stream')?.body).toBe('chunk')
    // The next request does not first fail with the rejected token.
    await api('/data?next')
    expect(servers.api.count('/data?next')).toBe(1)
    expect(servers.api.tokenRequests()).toBe(2)
  })

  it('keeps ofetch retry rules for other statuses, before and after the auth retry', async () => {
    const api = client()
    // ofetch retries a GET once on 503 by default: still so.
    expect(await api('/flaky-a')).toMatchObject({ ok: true })
    expect(servers.api.count('/flaky-a')).toBe(2)
    // 401 → auth retry → 503 → ofetch's own retry → 200: the auth retry costs no retry budget.
    servers.api.revoke()
    expect(await api('/flaky-b')).toMatchObject({ ok: true })
    expect(servers.api.count('/flaky-b')).toBe(3)
    // And retry: 0 still means no retry of a 503, also after an auth retry.
    servers.api.revoke()
    const error = await rejection(api('/flaky-c', { retry: 0 }))
    expect(error.status).toBe(503)
    expect(servers.api.count('/flaky-c')).toBe(2)
  })

  it('with ignoreResponseError, refreshes too and returns a persisting 401 instead of throwing', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    expect(await api('/data?x', { ignoreResponseError: true })).toMatchObject({ ok: true })
    const response = await api.raw('/always-401', { ignoreResponseError: true })
    expect(response.status).toBe(401)
    expect(servers.api.count('/always-401')).toBe(2)
  })

  it('reports token endpoint failures with core errors', async () => {
    const api = ofetch.create(
      oauthOptions(
        { grant: clientCredentials({ tokenUrl: `${servers.other.origin}/nope`, clientId: 'svc' }) },
        { baseURL: servers.api.origin },
      ),
    )
    servers.other.seen.length = 0
    await expect(api('/data')).rejects.toMatchObject({ name: 'TokenEndpointError' })
    expect(servers.api.apiRequests()).toHaveLength(0)
  })
})

describe('timeouts and abort signals', () => {
  it('a request times out with ofetch timeout', async () => {
    const error = await rejection(client()('/hang', { timeout: 50, retry: 0 }))
    expect(error.cause).toMatchObject({ name: 'TimeoutError' })
  })

  it('the auth retry gets a fresh timeout (ofetch would reuse the first, spent one)', async () => {
    const api = client()
    await api('/data?warm')
    servers.api.revoke()
    // The first attempt is a 401 (token check comes first), the retry hangs and must time out.
    const error = await rejection(api('/redirect?to=/hang', { timeout: 100, retry: 0 }))
    expect(error.cause).toMatchObject({ name: 'TimeoutError' })
    expect(servers.api.count('/redirect?to=/hang')).toBe(2)
    expect(servers.api.count('/hang')).toBe(1)
  })

  it('an abort signal cancels the request', async () => {
    const controller = new AbortController()
    const pending = client()('/hang', { signal: controller.signal })
    await new Promise<void>((resolve) => {
      const poll = () => (servers.api.count('/hang') ? resolve() : setImmediate(poll))
      poll()
    })
    controller.abort()
    const error = await rejection(pending)
    expect(error.cause).toMatchObject({ name: 'AbortError' })
  })

  it('an aborted signal also stops waiting for the token, rejecting as ofetch rejects an abort', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(client()('/data', { signal: controller.signal })).rejects.toMatchObject({
      name: 'FetchError',
      cause: { name: 'AbortError' },
    })
    expect(servers.api.apiRequests()).toHaveLength(0)
  })
})
