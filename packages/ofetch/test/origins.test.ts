import { ConfigError, clientCredentials } from '@oauth-interceptors/core'
import { ofetch } from 'ofetch'
import { describe, expect, it } from 'vitest'
import { oauthOptions } from '../src/index'
import { useServers } from './servers'

const servers = useServers()

const grant = () =>
  clientCredentials({ tokenUrl: servers.api.tokenUrl, clientId: 'svc', clientSecret: 's3cret' })

/** The API's origin with a custom token header and a static API key, as some providers want. */
const customHeaders = () => {
  servers.api.state.authHeader = 'x-access-token'
  return ofetch.create(
    oauthOptions(
      { grant: grant(), header: 'X-Access-Token', scheme: false, headers: { 'x-api-key': 'k-1' } },
      { baseURL: servers.api.origin },
    ),
  )
}

describe('which requests get the token', () => {
  it('fails at setup with a ConfigError explaining origins when it cannot know the base URL', () => {
    // ofetch.create({ baseURL, ...oauthOptions(cfg) }): the hooks cannot see that baseURL.
    expect(() => oauthOptions({ grant: grant() })).toThrow(ConfigError)
    expect(() => oauthOptions({ grant: grant() })).toThrow(/origins.*ofetch was given no base URL/s)
    expect(() => oauthOptions({ grant: grant() }, { baseURL: '/relative' })).toThrow(ConfigError)
  })

  it('with origins in the config, works when spread next to baseURL', async () => {
    const api = ofetch.create({
      baseURL: servers.api.origin,
      ...oauthOptions({ grant: grant(), origins: [servers.api.origin] }),
    })
    expect(await api('/data')).toMatchObject({ ok: true })
    expect(servers.api.apiRequests()[0]?.headers.authorization).toBe('Bearer at-1')
  })

  it('sends no token, and no static header, to an origin that is not allowed', async () => {
    const api = customHeaders()
    expect(await api(`${servers.other.origin}/elsewhere`)).toEqual({ other: true })
    const [sent] = servers.other.seen
    expect(sent?.headers['x-access-token']).toBeUndefined()
    expect(sent?.headers['x-api-key']).toBeUndefined()
    expect(servers.api.tokenRequests()).toBe(0)
  })

  it('never adds the token to requests to the token endpoint', async () => {
    const api = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    await api('/data')
    await api('/oauth/token', { method: 'POST', body: 'grant_type=client_credentials' })
    const [, direct] = servers.api.seen.filter((request) => request.path === '/oauth/token')
    expect(direct?.headers.authorization).toBeUndefined()
  })

  it('skips a request marked skipAuth: no token, no token request, no refresh', async () => {
    const api = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    const error = await api('/always-401', { skipAuth: true }).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'FetchError', status: 401 })
    expect(servers.api.count('/always-401')).toBe(1)
    expect(servers.api.seen[0]?.headers.authorization).toBeUndefined()
    expect(servers.api.tokenRequests()).toBe(0)
  })
})

describe('header modes', () => {
  it('sends Authorization: Bearer <token> by default', async () => {
    await ofetch(`${servers.api.origin}/data`, oauthOptions({ grant: grant(), origins: '*' }))
    expect(servers.api.apiRequests()[0]?.headers.authorization).toBe('Bearer at-1')
  })

  it("sends the token's own type with scheme: 'token_type', and the raw token with scheme: false", async () => {
    const base = { baseURL: servers.api.origin }
    await ofetch('/data', oauthOptions({ grant: grant(), scheme: 'token_type' }, base))
    await ofetch('/data', oauthOptions({ grant: grant(), scheme: false }, base))
    expect(servers.api.apiRequests().map((request) => request.headers.authorization)).toEqual([
      'Bearer at-1',
      'at-2',
    ])
  })

  it('sends a custom header with static headers, and refreshes on 401 in that mode too', async () => {
    const api = customHeaders()
    await api('/data?a')
    servers.api.revoke()
    await api('/data?b')
    expect(
      servers.api
        .apiRequests()
        .map((r) => [r.path, r.headers['x-access-token'], r.headers['x-api-key']]),
    ).toEqual([
      ['/data?a', 'at-1', 'k-1'],
      ['/data?b', 'at-1', 'k-1'],
      ['/data?b', 'at-2', 'k-1'],
    ])
    expect(servers.api.apiRequests()[0]?.headers.authorization).toBeUndefined()
  })
})

describe('redirects (real 302s to a second server on another port)', () => {
  it('drops the default Authorization header when a redirect leaves the origin', async () => {
    const api = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    const to = encodeURIComponent(`${servers.other.origin}/landing`)
    expect(await api(`/redirect?status=302&to=${to}`)).toEqual({ other: true })
    expect(servers.api.count(`/redirect?status=302&to=${to}`)).toBe(1)
    expect(servers.other.seen.map((request) => request.headers.authorization)).toEqual([undefined])
  })

  it('drops a custom token header and static headers when a redirect leaves the origin', async () => {
    const api = customHeaders()
    for (const status of [302, 307]) {
      const to = encodeURIComponent(`${servers.other.origin}/landing-${status}`)
      expect(await api(`/redirect?status=${status}&to=${to}`)).toEqual({ other: true })
    }
    expect(
      servers.other.seen.map((r) => [r.path, r.headers['x-access-token'], r.headers['x-api-key']]),
    ).toEqual([
      ['/landing-302', undefined, undefined],
      ['/landing-307', undefined, undefined],
    ])
  })

  it('keeps the token across a redirect within the origin, with the method rules of fetch', async () => {
    const api = customHeaders()
    const post = { method: 'POST', body: { n: 1 } } as const
    expect(await api('/redirect?status=307&to=/data?kept', post)).toMatchObject({ ok: true })
    expect(await api('/redirect?status=303&to=/data?get', post)).toMatchObject({ ok: true })
    const sent = (path: string) => servers.api.seen.find((request) => request.path === path)
    expect(sent('/data?kept')).toMatchObject({ method: 'POST', body: '{"n":1}' })
    expect(sent('/data?kept')?.headers).toMatchObject({
      'x-access-token': 'at-1',
      'x-api-key': 'k-1',
    })
    expect(sent('/data?get')).toMatchObject({ method: 'GET', body: '' })
    expect(sent('/data?get')?.headers['content-type']).toBeUndefined()
  })

  it('returns a redirect as is when the caller asked for redirect: manual', async () => {
    const api = customHeaders()
    const response = await api.raw('/redirect?status=302&to=/data', { redirect: 'manual' })
    expect([response.status, response.headers.get('location')]).toEqual([302, '/data'])
    expect(servers.api.count('/data')).toBe(0)
  })

  it('does not refresh for a 401 from another origin that never saw the token', async () => {
    const plain = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    const to = encodeURIComponent(`${servers.other.origin}/401`)
    // customHeaders() switches the API to read x-access-token, so it is built second.
    for (const make of [() => plain, customHeaders]) {
      const api = make()
      const error = await api(`/redirect?to=${to}`).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'FetchError', status: 401 })
    }
    expect(servers.api.count(`/redirect?to=${to}`)).toBe(2)
    expect(servers.other.count('/401')).toBe(2)
    expect(servers.api.tokenRequests()).toBe(2) // one per client, no refresh
  })
})
