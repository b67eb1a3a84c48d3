import { ConfigError, clientCredentials } from '@oauth-interceptors/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type FetchFunction, oauthFetch } from '../src/index'
import { type AuthServers, managerFor, startAuthServers } from './servers'

let servers: AuthServers
beforeAll(async () => {
  servers = await startAuthServers()
})
afterAll(() => servers.close())
afterEach(() => {
  servers.api.seen.length = 0
  servers.other.seen.length = 0
  vi.unstubAllGlobals()
})

/** A fresh manager (cold cache) whose token goes to the API server only. */
function authedFetch(options: Record<string, unknown> = {}) {
  return oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin], ...options })
}

/** How often the API received each `?id=` (each logical request). */
function sendsPerId(): number[] {
  const counts = new Map<string, number>()
  for (const { path } of servers.api.seen) {
    const id = new URL(path, 'http://x').searchParams.get('id') ?? ''
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return [...counts.values()]
}

describe('oauthFetch: tokens', () => {
  it('makes one token request for 100 concurrent requests on a cold cache', async () => {
    const fetch = authedFetch()
    const before = servers.tokenRequests()
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, id) => fetch(servers.api.url(`/data?id=${id}`))),
    )
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(servers.tokenRequests() - before).toBe(1)
    expect(servers.api.seen).toHaveLength(100)
    const token = servers.api.seen[0]?.headers.authorization
    expect(token).toMatch(/^Bearer at-\d+$/)
    expect(servers.api.seen.every((request) => request.headers.authorization === token)).toBe(true)
  })

  it('after the token is revoked, 100 concurrent requests make one token request and each is sent at most twice', async () => {
    const fetch = authedFetch()
    await fetch(servers.api.url('/data?id=warm-up'))
    servers.api.seen.length = 0
    servers.revokeAll()
    const before = servers.tokenRequests()
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, id) => fetch(servers.api.url(`/data?id=${id}`))),
    )
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200))
    expect(servers.tokenRequests() - before).toBe(1)
    const perId = sendsPerId()
    expect(perId).toHaveLength(100)
    expect(Math.max(...perId)).toBeLessThanOrEqual(2)
  })

  it('one manager shared by two wrappers makes one token request per burst', async () => {
    const manager = managerFor(servers)
    const first = oauthFetch({ manager, origins: [servers.api.origin] })
    const second = oauthFetch({ manager, origins: servers.api.origin, header: 'x-access-token' })
    const burst = () =>
      Promise.all(
        Array.from({ length: 50 }, (_, id) => [
          first(servers.api.url(`/data?id=a${id}`)),
          second(servers.api.url(`/data?id=b${id}`)),
        ]).flat(),
      )
    const before = servers.tokenRequests()
    const cold = await burst()
    expect(servers.tokenRequests() - before).toBe(1)
    servers.revokeAll()
    const revoked = await burst()
    expect(servers.tokenRequests() - before).toBe(2)
    expect([...cold, ...revoked].every((response) => response.status === 200)).toBe(true)
  })

  it('reads the token from the manager on every request, so a new token is used at once', async () => {
    const manager = managerFor(servers)
    const fetch = oauthFetch(manager, { baseUrl: servers.api.url('/v1/') })
    await fetch(servers.api.url('/data'))
    const first = (await manager.getToken()).accessToken
    manager.invalidate(first)
    const second = (await manager.getToken()).accessToken
    await fetch(servers.api.url('/data'))
    expect(servers.api.seen.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${first}`,
      `Bearer ${second}`,
    ])
  })
})

describe('oauthFetch: which requests get the token', () => {
  it('sends no token, no static header and asks no token for an origin that is not allowed', async () => {
    const fetch = authedFetch({ headers: { 'x-api-key': 'key-1' } })
    const before = servers.tokenRequests()
    const response = await fetch(servers.other.url('/data'))
    expect(response.status).toBe(401)
    expect(servers.other.seen[0]?.headers.authorization).toBeUndefined()
    expect(servers.other.seen[0]?.headers['x-api-key']).toBeUndefined()
    expect(servers.other.seen).toHaveLength(1)
    expect(servers.tokenRequests()).toBe(before)
  })

  it('never adds the token to the token endpoint itself, even with origins "*"', async () => {
    const fetch = oauthFetch({ manager: managerFor(servers), origins: '*' })
    await fetch(servers.api.url('/data'))
    const before = servers.tokens.seen.length
    await fetch(servers.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' })
    expect(servers.tokens.seen[before]?.headers.authorization).toBeUndefined()
  })

  it('skips auth for one request with { skipAuth: true }, and does not pass skipAuth on', async () => {
    const inner = vi.fn<FetchFunction>((input, init) => globalThis.fetch(input, init))
    const fetch = oauthFetch(
      { manager: managerFor(servers), origins: [servers.api.origin] },
      { fetch: inner },
    )
    const before = servers.tokenRequests()
    const response = await fetch(servers.api.url('/data'), { skipAuth: true, headers: { a: '1' } })
    expect(response.status).toBe(401)
    expect(servers.api.seen[0]?.headers.authorization).toBeUndefined()
    expect(servers.api.seen[0]?.headers.a).toBe('1')
    expect(inner.mock.calls[0]?.[1]).not.toHaveProperty('skipAuth')
    expect(servers.tokenRequests()).toBe(before)
  })

  it('uses the origin of baseUrl as the default origins', async () => {
    const fetch = oauthFetch({ manager: managerFor(servers) }, { baseUrl: servers.api.url('/v1/') })
    await fetch(servers.api.url('/data'))
    await fetch(servers.other.url('/data'))
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer /)
    expect(servers.other.seen[0]?.headers.authorization).toBeUndefined()
  })

  it('fails at setup with a ConfigError explaining origins when there is neither origins nor baseUrl', () => {
    const setup = () =>
      oauthFetch({
        grant: clientCredentials({
          tokenUrl: servers.tokenUrl,
          clientId: 'svc',
          clientSecret: 's',
        }),
      })
    expect(setup).toThrow(ConfigError)
    expect(setup).toThrow(/Invalid option "origins": fetch was given no base URL.*origins: '\*'/)
  })

  it('rejects a fetch option that is not a function', () => {
    const setup = () =>
      oauthFetch(managerFor(servers), {
        baseUrl: servers.api.origin,
        fetch: 'fetch' as unknown as FetchFunction,
      })
    expect(setup).toThrow(expect.objectContaining({ name: 'ConfigError', option: 'fetch' }))
  })
})

describe('oauthFetch: header modes', () => {
  it('sends Authorization: Bearer <token> by default', async () => {
    await authedFetch()(servers.api.url('/data'))
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer at-\d+$/)
  })

  it('sends the raw token with scheme: false', async () => {
    await authedFetch({ scheme: false })(servers.api.url('/data'))
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^at-\d+$/)
  })

  it("uses the token's own type with scheme: 'token_type'", async () => {
    await authedFetch({ scheme: 'token_type' })(servers.api.url('/data'))
    // The endpoint answers token_type "bearer"; core normalises any casing to Bearer.
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer at-\d+$/)
  })

  it('sends a custom header and static headers, and no Authorization', async () => {
    const fetch = authedFetch({
      header: 'X-Access-Token',
      scheme: false,
      headers: { 'x-api-key': 'key-1' },
    })
    const response = await fetch(servers.api.url('/data'))
    expect(response.status).toBe(200)
    const headers = servers.api.seen[0]?.headers ?? {}
    expect(headers['x-access-token']).toMatch(/^at-\d+$/)
    expect(headers['x-api-key']).toBe('key-1')
    expect(headers.authorization).toBeUndefined()
  })

  it("keeps the caller's own headers next to the token", async () => {
    await authedFetch()(servers.api.url('/data'), { headers: [['x-trace', 't-1']] })
    expect(servers.api.seen[0]?.headers['x-trace']).toBe('t-1')
    expect(servers.api.seen[0]?.headers.authorization).toMatch(/^Bearer /)
  })
})

describe('oauthFetch: rejected tokens', () => {
  it('retries a persistent 401 exactly once, then returns the second 401 response', async () => {
    const fetch = authedFetch()
    const before = servers.tokenRequests()
    const response = await fetch(servers.api.url('/always-401'))
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ error: 'invalid_token' })
    const sent = servers.api.sentTo('/always-401')
    expect(sent).toHaveLength(2)
    // The retry carries the refreshed token, not the rejected one.
    expect(sent[0]?.headers.authorization).not.toBe(sent[1]?.headers.authorization)
    expect(servers.tokenRequests() - before).toBe(2)
  })

  it('does not refresh on 403', async () => {
    const fetch = authedFetch()
    const before = servers.tokenRequests()
    const response = await fetch(servers.api.url('/forbidden'))
    expect(response.status).toBe(403)
    expect(servers.api.sentTo('/forbidden')).toHaveLength(1)
    expect(servers.tokenRequests() - before).toBe(1)
  })

  it('asks shouldRefresh, e.g. to refresh on a 419 as well', async () => {
    const inner = vi.fn<FetchFunction>(async () => new Response(null, { status: 419 }))
    const manager = managerFor(servers)
    const fetch = oauthFetch(
      { manager, origins: ['https://api.example.test'], shouldRefresh: (r) => r.status === 419 },
      { fetch: inner },
    )
    const before = servers.tokenRequests()
    const response = await fetch('https://api.example.test/data')
    expect(response.status).toBe(419)
    expect(inner).toHaveBeenCalledTimes(2)
    expect(servers.tokenRequests() - before).toBe(2)
  })
})

describe('oauthFetch: errors', () => {
  it("rejects with core's error when no token can be had, and sends nothing to the API", async () => {
    const fetch = oauthFetch({
      grant: clientCredentials({
        tokenUrl: servers.other.url('/always-401'),
        clientId: 'svc',
        clientSecret: 'wrong',
      }),
      origins: [servers.api.origin],
    })
    const sending = fetch(servers.api.url('/data'))
    await expect(sending).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_token' })
    await expect(sending).rejects.not.toThrow(/wrong/)
    expect(servers.api.seen).toHaveLength(0)
  })
})

describe('oauthFetch: the wrapped fetch', () => {
  it('sends through the fetch passed as options.fetch', async () => {
    const inner = vi.fn<FetchFunction>((input, init) => globalThis.fetch(input, init))
    const fetch = oauthFetch(
      { manager: managerFor(servers), origins: [servers.api.origin] },
      { fetch: inner },
    )
    const response = await fetch(servers.api.url('/data'))
    expect(response.status).toBe(200)
    expect(inner).toHaveBeenCalledTimes(1)
    expect(new Headers(inner.mock.calls[0]?.[1]?.headers).get('authorization')).toMatch(/^Bearer /)
  })

  it('looks globalThis.fetch up on each call, so a fetch installed later is used', async () => {
    const fetch = authedFetch()
    const installed = vi.fn<FetchFunction>(async () => new Response('stubbed'))
    vi.stubGlobal('fetch', installed)
    const response = await fetch('https://api.example.test/data', { skipAuth: true })
    expect(await response.text()).toBe('stubbed')
    expect(installed).toHaveBeenCalledTimes(1)
  })

  it('is assignable where a fetch is expected', () => {
    const asFetch: typeof globalThis.fetch = authedFetch()
    expect(asFetch).toBeTypeOf('function')
  })
})
