import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { oauthFetch } from '../src/index'
import { type AuthServers, managerFor, startAuthServers } from './servers'

let servers: AuthServers
beforeAll(async () => {
  servers = await startAuthServers()
})
afterAll(() => servers.close())
afterEach(() => {
  servers.api.seen.length = 0
  servers.other.seen.length = 0
})

function authedFetch(options: Record<string, unknown> = {}) {
  return oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin], ...options })
}

/** A URL on the API server that answers `status` with a Location of `to`. */
function redirect(to: string, status = 302): string {
  return servers.api.url(`/redirect?status=${status}&to=${encodeURIComponent(to)}`)
}

describe('oauthFetch: redirects', () => {
  it('drops the token on a real 302 to another origin (default Authorization header)', async () => {
    const fetch = authedFetch()
    const before = servers.tokenRequests()
    const response = await fetch(redirect(servers.other.url('/data')))
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer at-\d+$/)
    expect(servers.other.seen).toHaveLength(1)
    expect(servers.other.seen[0]?.headers.authorization).toBeUndefined()
    // The other origin's 401 is not about our token: returned as is, no refresh, no retry.
    expect(response.status).toBe(401)
    expect(response.redirected).toBe(true)
    expect(response.url).toBe(servers.other.url('/data'))
    expect(servers.api.seen).toHaveLength(1)
    expect(servers.tokenRequests() - before).toBe(1)
  })

  it('follows redirects itself outside browsers; in one, leaves them to fetch with only Authorization and one origin', async () => {
    const redirectModes: Array<RequestRedirect | undefined> = []
    const spy = (input: string | URL | Request, init?: RequestInit) => {
      redirectModes.push(init?.redirect)
      return fetch(input, init)
    }
    await oauthFetch(
      { manager: managerFor(servers), origins: [servers.api.origin] },
      { fetch: spy },
    )(redirect('/data'))
    // In a browser (a document): the platform follows, as a manual redirect is opaque there.
    vi.stubGlobal('document', {})
    onTestFinished(() => {
      vi.unstubAllGlobals()
    })
    await oauthFetch(
      { manager: managerFor(servers), origins: [servers.api.origin] },
      { fetch: spy },
    )(redirect('/data'))
    await oauthFetch(
      {
        manager: managerFor(servers),
        origins: [servers.api.origin],
        headers: { 'x-api-key': 'k' },
      },
      { fetch: spy },
    )(redirect('/data'))
    // Node: two manual hops; browser: one platform-followed call, then two manual hops again.
    expect(redirectModes).toEqual(['manual', 'manual', undefined, 'manual', 'manual'])
  })

  it('drops a custom token header and static x-api-key on a real 302 to another origin', async () => {
    const fetch = authedFetch({ header: 'x-access-token', headers: { 'x-api-key': 'key-1' } })
    await fetch(redirect(servers.other.url('/data')), { headers: { 'x-trace': 't-1' } })
    const [atApi] = servers.api.seen
    const [atOther] = servers.other.seen
    expect(atApi?.headers['x-access-token']).toMatch(/^Bearer at-\d+$/)
    expect(atApi?.headers['x-api-key']).toBe('key-1')
    expect(atOther?.headers['x-access-token']).toBeUndefined()
    expect(atOther?.headers['x-api-key']).toBeUndefined()
    expect(atOther?.headers.authorization).toBeUndefined()
    // The caller's own harmless headers follow the redirect, as with fetch.
    expect(atOther?.headers['x-trace']).toBe('t-1')
  })

  it('keeps the token on a redirect within the origin, and on one to another allowed origin', async () => {
    const fetch = authedFetch({ origins: [servers.api.origin, servers.other.origin] })
    const same = await fetch(redirect('/data'))
    const allowed = await fetch(redirect(servers.other.url('/data')))
    expect([same.status, allowed.status]).toEqual([200, 200])
    expect(servers.api.sentTo('/data')[0]?.headers.authorization).toMatch(/^Bearer /)
    expect(servers.other.seen[0]?.headers.authorization).toMatch(/^Bearer /)
  })

  it('adds no credentials again once the chain has passed another origin, and refreshes nothing', async () => {
    const fetch = authedFetch({ headers: { 'x-api-key': 'key-1' } })
    const back = servers.other.url(`/redirect?to=${encodeURIComponent(servers.api.url('/data'))}`)
    const before = servers.tokenRequests()
    const response = await fetch(redirect(back))
    // The API answers 401 to a request without a token: that 401 judges no token of ours.
    expect(response.status).toBe(401)
    expect(servers.other.seen[0]?.headers.authorization).toBeUndefined()
    expect(servers.other.seen[0]?.headers['x-api-key']).toBeUndefined()
    expect(servers.api.sentTo('/data')).toHaveLength(1)
    expect(servers.api.sentTo('/data')[0]?.headers.authorization).toBeUndefined()
    expect(servers.api.sentTo('/data')[0]?.headers['x-api-key']).toBeUndefined()
    expect(servers.tokenRequests() - before).toBe(1)
  })

  it.each([
    ['the default Authorization header', {}],
    ['a static header', { headers: { 'x-api-key': 'key-1' } }],
  ])(
    'with %s, a 401 after allowed → foreign → allowed drops no token and asks for none',
    async (_name, options) => {
      const fetch = authedFetch(options)
      await fetch(servers.api.url('/data'))
      const back = servers.other.url(`/redirect?to=${encodeURIComponent(servers.api.url('/data'))}`)
      const before = servers.tokenRequests()
      servers.api.seen.length = 0
      expect((await fetch(redirect(back))).status).toBe(401)
      expect(servers.api.sentTo('/data')).toHaveLength(1)
      expect(servers.api.sentTo('/data')[0]?.headers.authorization).toBeUndefined()
      // The token was never sent where the 401 came from: it is still good.
      expect((await fetch(servers.api.url('/data'))).status).toBe(200)
      expect(servers.tokenRequests() - before).toBe(0)
    },
  )

  it("keeps a Request's own redirect mode on the retry, so no static header follows a redirect", async () => {
    const modes: RequestRedirect[] = []
    let calls = 0
    const inner = async (input: string | URL | Request, init?: RequestInit) => {
      modes.push(new Request(input, init).redirect)
      return new Response(null, { status: calls++ === 0 ? 401 : 200 })
    }
    const fetch = oauthFetch(
      {
        manager: managerFor(servers),
        origins: [servers.api.origin],
        headers: { 'x-api-key': 'k' },
      },
      { fetch: inner },
    )
    const response = await fetch(new Request(servers.api.url('/data'), { redirect: 'manual' }))
    expect(response.status).toBe(200)
    expect(modes).toEqual(['manual', 'manual'])
  })

  it('refreshes and retries the whole chain when the final allowed hop answers 401', async () => {
    const fetch = authedFetch()
    await fetch(servers.api.url('/data'))
    servers.api.seen.length = 0
    servers.revokeAll()
    const response = await fetch(redirect('/data'))
    expect(response.status).toBe(200)
    expect(servers.api.seen.map((request) => request.path.split('?')[0])).toEqual([
      '/redirect',
      '/data',
      '/redirect',
      '/data',
    ])
  })

  // With only Authorization and one origin fetch follows redirects itself (as in browsers, where a
  // manual redirect is opaque); with a static header they are followed here. Both act like fetch.
  describe.each([
    ['fetch follows them (default header)', {}],
    ['oauthFetch follows them (static x-api-key)', { headers: { 'x-api-key': 'key-1' } }],
  ] as const)('redirect rules when %s', (_name, mode: { headers?: Record<string, string> }) => {
    it('turns a POST into a GET without body on 303, and on 301/302', async () => {
      for (const status of [301, 302, 303]) {
        servers.api.seen.length = 0
        const response = await authedFetch(mode)(redirect('/data', status), {
          method: 'POST',
          body: JSON.stringify({ a: 1 }),
          headers: { 'content-type': 'application/json' },
        })
        expect(await response.json()).toEqual({ method: 'GET', body: '' })
        expect(servers.api.sentTo('/data')[0]?.headers['content-type']).toBeUndefined()
      }
    })

    it('keeps method and body on 307 and 308', async () => {
      for (const status of [307, 308]) {
        const response = await authedFetch(mode)(redirect('/data', status), {
          method: 'PUT',
          body: 'payload',
        })
        expect(await response.json()).toEqual({ method: 'PUT', body: 'payload' })
      }
    })

    it('fails like fetch when a 307 would need a streamed body again', async () => {
      const body = new Blob(['streamed']).stream()
      const send = authedFetch(mode)(redirect('/data', 307), {
        method: 'POST',
        body,
        duplex: 'half',
      } as RequestInit)
      await expect(send).rejects.toThrow(TypeError)
      expect(servers.api.sentTo('/data')).toHaveLength(0)
    })

    it('follows 20 redirects and fails like fetch on the 21st', async () => {
      const fetch = authedFetch(mode)
      expect((await fetch(servers.api.url('/loop?hops=20'))).status).toBe(200)
      const tooMany = fetch(servers.api.url('/loop?hops=21'))
      await expect(tooMany).rejects.toThrow(TypeError)
      // fetch's own follower says "fetch failed"; this one says why.
      if (mode.headers) await expect(tooMany).rejects.toThrow(/Too many redirects/)
    })

    it("leaves a caller's redirect: 'manual' alone: the caller gets the 3xx", async () => {
      const response = await authedFetch(mode)(redirect(servers.other.url('/data')), {
        redirect: 'manual',
      })
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toBe(servers.other.url('/data'))
      expect(servers.other.seen).toHaveLength(0)
    })

    it("keeps a caller's redirect: 'error'", async () => {
      await expect(authedFetch(mode)(redirect('/data'), { redirect: 'error' })).rejects.toThrow(
        TypeError,
      )
      expect(servers.api.sentTo('/data')).toHaveLength(0)
    })

    it('returns a 3xx without Location as it is', async () => {
      const response = await authedFetch(mode)(servers.api.url('/redirect?status=302'))
      expect(response.status).toBe(302)
    })
  })
})

describe('oauthFetch: Request inputs', () => {
  it('adds the token to a Request and keeps its own headers and method', async () => {
    const request = new Request(servers.api.url('/data'), {
      method: 'DELETE',
      headers: { 'x-trace': 't-1' },
    })
    const response = await authedFetch()(request)
    expect(await response.json()).toEqual({ method: 'DELETE', body: '' })
    expect(servers.api.seen[0]?.headers['x-trace']).toBe('t-1')
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer /)
  })

  it("follows a Request's redirect itself and drops the token at the other origin", async () => {
    const response = await authedFetch()(new Request(redirect(servers.other.url('/data'))))
    expect(response.status).toBe(401)
    expect(servers.other.seen[0]?.headers.authorization).toBeUndefined()
  })

  it("keeps a Request's redirect: 'manual'", async () => {
    const request = new Request(redirect('/data'), { redirect: 'manual' })
    expect((await authedFetch()(request)).status).toBe(302)
  })

  it('lets init override the headers of a Request, as fetch does', async () => {
    const request = new Request(servers.api.url('/data'), { headers: { 'x-old': '1' } })
    await authedFetch()(request, { headers: { 'x-new': '2' } })
    expect(servers.api.seen[0]?.headers['x-old']).toBeUndefined()
    expect(servers.api.seen[0]?.headers['x-new']).toBe('2')
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer /)
  })
})
