import { clientCredentials } from '@oauth-interceptors/core'
import { type FetchContext, ofetch } from 'ofetch'
import { describe, expect, it } from 'vitest'
import { oauthOptions } from '../src/index'
import { useServers } from './servers'

const servers = useServers()

const grant = () =>
  clientCredentials({ tokenUrl: servers.api.tokenUrl, clientId: 'svc', clientSecret: 's3cret' })

describe('composing with your own ofetch options and hooks', () => {
  it('keeps your options and runs your hooks with ours: your onRequest first, our onResponse first', async () => {
    const calls: string[] = []
    const auth = oauthOptions(
      { grant: grant() },
      {
        baseURL: servers.api.origin,
        headers: { 'x-app': 'demo' },
        onRequest: [
          ({ options }) => {
            calls.push(`onRequest a: ${options.headers.get('authorization')}`)
          },
          ({ options }) => {
            calls.push('onRequest b')
            options.headers.set('x-trace', 't-1')
          },
        ],
        onResponse: ({ response }) => {
          calls.push(`onResponse ${response.status}`)
        },
        onResponseError: ({ response }) => {
          calls.push(`onResponseError ${response.status}`)
        },
      },
    )
    expect(auth.onRequest).toHaveLength(3)
    const api = ofetch.create(auth)
    await api('/data?warm')
    servers.api.revoke()
    await api('/data?x')
    expect(calls).toEqual([
      'onRequest a: null',
      'onRequest b',
      'onResponse 200',
      // The rejected attempt is sent once more inside our hook: yours see the call once, and
      // its outcome, as with a request that needed no new token.
      'onRequest a: null',
      'onRequest b',
      'onResponse 200',
    ])
    const last = servers.api.apiRequests().at(-1)
    expect(last?.headers).toMatchObject({
      authorization: 'Bearer at-2',
      'x-app': 'demo',
      'x-trace': 't-1',
    })
  })

  it('per-request hooks replace the instance hooks in ofetch 1.x: spread ours back in', async () => {
    const auth = oauthOptions({ grant: grant() }, { baseURL: servers.api.origin })
    const api = ofetch.create(auth)
    const mine = (_context: FetchContext) => {}
    await api('/data?spread', { onRequest: [...auth.onRequest, mine] }).catch(() => undefined)
    await api('/data?replaced', { onRequest: mine }).catch(() => undefined)
    const sent = servers.api.apiRequests().map((r) => [r.path, r.headers.authorization])
    expect(sent).toEqual([
      ['/data?spread', 'Bearer at-1'],
      ['/data?replaced', undefined],
    ])
  })

  it('authorizes Request and URL objects too, and never replays a Request body', async () => {
    const api = ofetch.create(oauthOptions({ grant: grant() }, { baseURL: servers.api.origin }))
    await api(new Request(`${servers.api.origin}/data?request`, { headers: { 'x-app': 'r' } }))
    await api(new URL(`${servers.api.origin}/data?url`) as unknown as string)
    expect(servers.api.apiRequests().map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/data?request', 'Bearer at-1'],
      ['/data?url', 'Bearer at-1'],
    ])
    expect(servers.api.apiRequests()[0]?.headers['x-app']).toBe('r')
    servers.api.revoke()
    const post = new Request(`${servers.api.origin}/data?post`, { method: 'POST', body: 'once' })
    await expect(api(post)).rejects.toMatchObject({ name: 'FetchError', status: 401 })
    expect(servers.api.count('/data?post')).toBe(1)
  })
})
