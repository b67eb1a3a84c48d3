import { clientCredentials } from '@oauth-interceptors/core'
import { ofetch } from 'ofetch-1.4'
import { describe, expect, it } from 'vitest'
import { oauthOptions } from '../src/index'
import { useServers } from './servers'

// The lowest ofetch the peer range allows: it keeps `query` in the options it retries with, and
// leaves `options.headers` as the hooks set them. The main behaviours, once more against it.
const servers = useServers()

const grant = () =>
  clientCredentials({ tokenUrl: servers.api.tokenUrl, clientId: 'svc', clientSecret: 's3cret' })

describe('with ofetch 1.4.0', () => {
  it('adds the token, refreshes once on 401 and retries once with the same query', async () => {
    const api = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    await api('/data', { query: { n: 1 } })
    servers.api.revoke()
    expect(await api('/data', { query: { n: 2 } })).toMatchObject({ ok: true })
    expect(servers.api.apiRequests().map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/data?n=1', 'Bearer at-1'],
      ['/data?n=2', 'Bearer at-1'],
      ['/data?n=2', 'Bearer at-2'],
    ])
    await expect(api('/always-401')).rejects.toMatchObject({ name: 'FetchError', status: 401 })
    expect(servers.api.count('/always-401')).toBe(2)
    await expect(api('/forbidden')).rejects.toMatchObject({ status: 403 })
    expect(servers.api.tokenRequests()).toBe(3)
  })

  it('drops a custom header and static headers on a redirect to another origin', async () => {
    servers.api.state.authHeader = 'x-access-token'
    const api = ofetch.create(
      oauthOptions(
        { grant: grant(), header: 'x-access-token', headers: { 'x-api-key': 'k-1' } },
        // A plain-object header from a hook: 1.4 converts it to Headers only after the hooks.
        {
          baseURL: servers.api.origin,
          onRequest: ({ options }) => {
            options.headers = { 'x-app': 'demo' } as unknown as Headers
          },
        },
      ),
    )
    const to = encodeURIComponent(`${servers.other.origin}/landing`)
    expect(await api(`/redirect?to=${to}`)).toEqual({ other: true })
    expect(servers.api.apiRequests()[0]?.headers).toMatchObject({
      'x-access-token': 'Bearer at-1',
      'x-api-key': 'k-1',
      'x-app': 'demo',
    })
    const [landing] = servers.other.seen
    expect([landing?.headers['x-access-token'], landing?.headers['x-api-key']]).toEqual([
      undefined,
      undefined,
    ])
  })
})
