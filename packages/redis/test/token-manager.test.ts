import { generateKeyPairSync } from 'node:crypto'
import type { TokenEvent } from '@oauth-interceptors/core'
import { createTokenManager } from '@oauth-interceptors/core'
import { dpop } from '@oauth-interceptors/core/dpop'
import { userTokens } from '@oauth-interceptors/core/sessions'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { isRedisStoreError, type RedisTokenStore, redisTokenStore } from '../src/index'
import { burst, callApi, fleetManager } from './fleet/fleet-manager'
import { describeWithRedis, type RedisServer, startRedis } from './redis-server'
import { type Api, startApi, startTokenEndpoint, type TokenEndpoint } from './servers'

// The core token manager over the store, two managers with their own Redis connections in
// this process standing in for two processes of a fleet.
describeWithRedis('token managers sharing a Redis store', () => {
  let redis: RedisServer
  let endpoint: TokenEndpoint
  let api: Api
  let scenario = 0
  const clients: Redis[] = []
  const stores: RedisTokenStore[] = []

  const newProcess = (name: string, timeout = 300) => {
    const client = new Redis(redis.url)
    client.on('error', () => {}) // a client without a listener logs each reconnect failure
    const store = redisTokenStore({
      client,
      prefix: `m${scenario}:`,
      timeout,
      pollInterval: 50,
    })
    clients.push(client)
    stores.push(store)
    const events: TokenEvent[] = []
    const tokens = fleetManager({
      tokenUrl: endpoint.url,
      store,
      processName: name,
      onEvent: (event) => events.push(event),
    })
    return { client, store, tokens, events }
  }
  /** Resolves on the client's next `event` (events.once would reject on its error events). */
  const next = (client: Redis, event: 'ready' | 'reconnecting') =>
    new Promise((resolve) => client.once(event, resolve))
  const storeErrors = (events: readonly TokenEvent[]) =>
    events.filter((event) => event.type === 'store_error')

  beforeAll(async () => {
    redis = await startRedis()
  })
  beforeAll(async () => {
    endpoint = await startTokenEndpoint()
    api = await startApi(endpoint.issued)
  })
  afterEach(() => {
    scenario++
  })
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
    for (const client of clients) client.disconnect()
    await api?.close()
    await endpoint?.close()
    await redis?.stop()
  })

  it('asks once for two managers on a cold cache; the second takes the token from Redis', async () => {
    const a = newProcess('a')
    const b = newProcess('b')
    const before = endpoint.requests.length

    const results = await Promise.all([
      burst(100, () => a.tokens.getToken()),
      burst(100, () => b.tokens.getToken()),
    ])

    expect(results.flatMap((result) => result.failures)).toEqual([])
    expect(new Set(results.flatMap((r) => r.values.map((t) => t.accessToken))).size).toBe(1)
    expect(endpoint.requests.length - before).toBe(1)
    expect(a.tokens.stats().fromStore + b.tokens.stats().fromStore).toBe(1)
  })

  it('keeps the stale-401 rule across processes: a 401 for a token another process replaced does not refresh', async () => {
    const a = newProcess('a')
    const b = newProcess('b')
    const old = await a.tokens.getToken()
    expect((await b.tokens.getToken()).accessToken).toBe(old.accessToken)

    // a meets the revocation first and refreshes.
    a.tokens.invalidate(old.accessToken)
    const fresh = await a.tokens.getToken()
    expect(fresh.accessToken).not.toBe(old.accessToken)
    const requests = endpoint.requests.length

    // b's in-flight requests now come back 401 with the old token.
    expect(b.tokens.invalidate(old.accessToken)).toBe(true)
    expect((await b.tokens.getToken()).accessToken).toBe(fresh.accessToken)
    expect(b.tokens.invalidate(old.accessToken)).toBe(false)
    expect((await b.tokens.getToken()).accessToken).toBe(fresh.accessToken)
    expect(endpoint.requests.length).toBe(requests)
  })

  it('serves every request while Redis is down, and uses Redis again once it is back', async () => {
    const a = newProcess('a')
    const b = newProcess('b')
    const slowest: Record<string, number> = {}
    /** Revokes every token issued so far, then 2 × 50 concurrent API requests. */
    const round = async (name: string, during?: () => Promise<void>) => {
      for (const token of endpoint.issued) api.revoked.add(token)
      const before = endpoint.requests.length
      const call = (p: typeof a) => (index: number) => {
        const started = performance.now()
        return callApi(p.tokens, api.url, `${name}-${index}`).finally(() => {
          slowest[name] = Math.round(Math.max(slowest[name] ?? 0, performance.now() - started))
        })
      }
      const [results] = await Promise.all([
        Promise.all([burst(50, call(a)), burst(50, call(b))]),
        during?.(),
      ])
      expect(results.flatMap((result) => result.failures)).toEqual([])
      expect(results.flatMap((r) => r.values).filter((status) => status !== 200)).toEqual([])
      return endpoint.requests.length - before
    }
    const counts: Record<string, number> = {}

    counts.up = await round('up')
    expect(counts.up).toBe(1)
    expect(storeErrors([...a.events, ...b.events])).toEqual([])

    const lost = Promise.all([next(a.client, 'reconnecting'), next(b.client, 'reconnecting')])
    counts.stopping = await round('stopping', () => redis.stop())
    await lost
    counts.down1 = await round('down-1')
    counts.down2 = await round('down-2')
    // In-process single flight still holds: at most one token request per process and round.
    for (const name of ['stopping', 'down1', 'down2']) expect(counts[name]).toBeLessThanOrEqual(2)
    const outageErrors = storeErrors([...a.events, ...b.events])
    expect(outageErrors.length).toBeGreaterThan(0)
    expect(outageErrors.every((event) => isRedisStoreError(event.error))).toBe(true)

    const back = Promise.all([next(a.client, 'ready'), next(b.client, 'ready')])
    await redis.restart()
    await back
    const fromStore = a.tokens.stats().fromStore + b.tokens.stats().fromStore
    counts.back = await round('back')

    expect(counts.back).toBe(1)
    expect(storeErrors([...a.events, ...b.events])).toHaveLength(outageErrors.length)
    expect(a.tokens.stats().fromStore + b.tokens.stats().fromStore).toBe(fromStore + 1)
    const inspector = new Redis(redis.url)
    clients.push(inspector)
    expect(await inspector.keys(`m${scenario}:*:token`)).toHaveLength(1)
    console.info(
      `[outage] token requests per round of 2 × 50 requests: ${JSON.stringify(counts)}; ` +
        `0 failed; ${outageErrors.length} store_error events; slowest request per round (ms) ${JSON.stringify(slowest)}`,
    )
  }, 60_000)

  it('waits for a hung Redis about once per refresh, then uses it again when it answers', async () => {
    const a = newProcess('a', 1_000)
    const b = newProcess('b', 1_000)
    const first = await a.tokens.getToken()
    await b.tokens.getToken()
    const before = endpoint.requests.length

    redis.pause() // connections stay up, nothing is answered: ioredis still says "ready"
    let took: number
    try {
      for (const p of [a, b]) p.tokens.invalidate(first.accessToken)
      const started = performance.now()
      const results = await Promise.all([
        burst(50, () => a.tokens.getToken()),
        burst(50, () => b.tokens.getToken()),
      ])
      took = performance.now() - started
      expect(results.flatMap((result) => result.failures)).toEqual([])
    } finally {
      redis.resume()
    }
    // get, acquire, set and release would each wait 1 s; after the first timeout they fail fast.
    expect(took).toBeLessThan(2_500)
    const codes = (p: typeof a) =>
      storeErrors(p.events).map((event) => (event.error as { code?: string }).code)
    for (const p of [a, b]) {
      expect(codes(p)[0]).toBe('redis_timeout')
      expect(codes(p).slice(1)).toContain('redis_unavailable')
    }
    expect(endpoint.requests.length - before).toBe(2) // one per process, in-process single flight

    // Once Redis answers again (after one more `timeout`), the processes share tokens again:
    // a token for a new scope is asked for once.
    await vi.waitFor(() => Promise.all([a.store.get('probe'), b.store.get('probe')]), {
      timeout: 5_000,
      interval: 100,
    })
    const again = await Promise.all([
      a.tokens.getToken({ scope: 'after' }),
      b.tokens.getToken({ scope: 'after' }),
    ])
    expect(again[0].accessToken).toBe(again[1].accessToken)
    expect(endpoint.requests.length - before).toBe(3)
    console.info(
      `[hung redis] 2 × 50 getToken() with Redis paused: ${took.toFixed(0)} ms, 2 token requests; after resume: 1`,
    )
  }, 30_000)

  // After an outage Redis can still hold a token the fleet has since replaced (and the API
  // revoked): a process whose newer token gets a 401 must not retry with that older one.
  it('does not take a token from Redis that is older than the one it replaces', async () => {
    const a = newProcess('a')
    const keys: string[] = []
    a.events.length = 0
    const current = await a.tokens.getToken()
    for (const event of a.events) if (event.type === 'token_received') keys.push(event.key)
    // What Redis still holds after an outage: the token before `current`.
    const older = { ...current, accessToken: 'older', expiresAt: (current.expiresAt ?? 0) - 60_000 }
    await a.store.set(keys[0] as string, { ...older, refreshAt: (older.expiresAt ?? 0) - 60_000 })

    a.tokens.invalidate(current.accessToken)
    const next = await a.tokens.getToken()

    expect(next.accessToken).not.toBe('older')
  })
})

// DPoP (RFC 9449) in fleet mode: a token is bound to the key that proved it, so processes share
// it only when they sign with the same key, and Redis keeps the key's thumbprint with it.
describeWithRedis('DPoP tokens shared through Redis', () => {
  let redis: RedisServer
  let endpoint: TokenEndpoint
  const clients: Redis[] = []

  const newProcess = (name: string, privateKey: string) => {
    const client = new Redis(redis.url)
    client.on('error', () => {})
    clients.push(client)
    const store = redisTokenStore({ client, prefix: 'dpop:', pollInterval: 50 })
    const key = dpop({ privateKey })
    const tokens = fleetManager({ tokenUrl: endpoint.url, store, processName: name, dpop: key })
    return { key, tokens }
  }
  const pem = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()

  beforeAll(async () => {
    redis = await startRedis()
    endpoint = await startTokenEndpoint({ tokenType: 'DPoP' })
  })
  afterAll(async () => {
    for (const client of clients) client.disconnect()
    await endpoint?.close()
    await redis?.stop()
  })

  it('shares a DPoP token between processes that prove the same key, and only between them', async () => {
    const shared = pem()
    const a = newProcess('a', shared)
    const b = newProcess('b', shared)
    const c = newProcess('c', pem())

    const [fromA, fromB] = await Promise.all([a.tokens.getToken(), b.tokens.getToken()])
    expect(fromB.accessToken).toBe(fromA.accessToken)
    expect(fromB.jkt).toBe(await a.key.thumbprint())
    expect(endpoint.requests.map((request) => request.process)).toEqual([
      expect.stringMatching(/^[ab]$/),
    ])

    // c signs with another key: the stored token is useless to it, so it gets its own.
    const fromC = await c.tokens.getToken()
    expect(fromC.accessToken).not.toBe(fromA.accessToken)
    expect(fromC.jkt).toBe(await c.key.thumbprint())
    expect(endpoint.requests.map((request) => request.process).slice(1)).toEqual(['c'])
  })
})

// A BFF with two instances: user sessions live in Redis, keyed by the session id's hash, and
// each session is refreshed once across the instances, with the lock per session.
describeWithRedis('user sessions shared by two BFF instances through Redis', () => {
  let redis: RedisServer
  let endpoint: TokenEndpoint
  const clients: Redis[] = []

  const instance = (name: string) => {
    const client = new Redis(redis.url)
    client.on('error', () => {})
    clients.push(client)
    return createTokenManager({
      grant: userTokens({ tokenUrl: endpoint.url, clientId: 'bff', clientSecret: 'bff-secret' }),
      store: redisTokenStore({ client, prefix: 'bff:', pollInterval: 50 }),
      retry: false,
      fetch: (input, init) => {
        const headers = new Headers(init.headers)
        headers.set('x-fleet-process', name)
        return fetch(input, { ...init, headers })
      },
    })
  }
  const login = (user: string) => ({
    access_token: `login-${user}`,
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: `rt-${user}-0123456789`,
  })

  beforeAll(async () => {
    redis = await startRedis()
    endpoint = await startTokenEndpoint()
  })
  afterAll(async () => {
    for (const client of clients) client.disconnect()
    await endpoint?.close()
    await redis?.stop()
  })

  it('reads a session set by the other instance, and refreshes each session once for 2 × 100 concurrent calls', async () => {
    const a = instance('a')
    const b = instance('b')
    await a.setSession('session-alice', login('alice'))
    await a.setSession('session-bob', login('bob'))
    // The other instance finds the sessions in Redis: no token request.
    expect((await b.getToken({ session: 'session-alice' })).accessToken).toBe('login-alice')
    expect((await b.getToken({ session: 'session-bob' })).accessToken).toBe('login-bob')
    expect(endpoint.requests).toHaveLength(0)

    // Both instances meet a 401 for both sessions at once.
    for (const manager of [a, b]) {
      manager.invalidate('login-alice')
      manager.invalidate('login-bob')
    }
    const calls = [a, b].flatMap((manager) =>
      Array.from({ length: 100 }, (_, i) =>
        manager.getToken({ session: i % 2 ? 'session-bob' : 'session-alice' }),
      ),
    )
    const tokens = await Promise.all(calls)

    expect(endpoint.requests).toHaveLength(2)
    const alice = new Set(tokens.filter((_, i) => i % 2 === 0).map((t) => t.accessToken))
    const bob = new Set(tokens.filter((_, i) => i % 2 === 1).map((t) => t.accessToken))
    expect(alice.size).toBe(1)
    expect(bob.size).toBe(1)
    expect(alice).not.toEqual(bob)
    // Redis holds the sessions under the hash of their ids, never the ids.
    const keys = await (clients[0] as Redis).keys('bff:*')
    expect(keys.length).toBeGreaterThan(0)
    expect(keys.join()).not.toMatch(/session-alice|session-bob/)

    // Logout on one instance removes the session from Redis: an instance that did not hold
    // it in memory finds nothing.
    await a.endSession('session-alice')
    const c = instance('c')
    await expect(c.getToken({ session: 'session-alice' })).rejects.toMatchObject({
      code: 'login_required',
    })
  })

  it('keeps a session idle past its access token in Redis, and refreshes it with its refresh token', async () => {
    const a = instance('idle-a')
    await a.setSession('session-idle', {
      access_token: 'login-idle',
      token_type: 'Bearer',
      expires_in: 1,
      refresh_token: 'rt-idle-0123456789',
    })
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const before = endpoint.requests.length

    // Another instance, which never held the session, finds it still in Redis.
    const token = await instance('idle-b').getToken({ session: 'session-idle' })

    expect(token.accessToken).toMatch(/^token-/)
    expect(endpoint.requests.slice(before).map((r) => r.form.refresh_token)).toEqual([
      'rt-idle-0123456789',
    ])
  })

  it('ends a session at logout on one instance while another is refreshing it: the refresh does not bring it back', async () => {
    const slow = await startTokenEndpoint({ delayMs: 300 })
    try {
      const instanceOf = () => {
        const client = new Redis(redis.url)
        client.on('error', () => {})
        clients.push(client)
        return createTokenManager({
          grant: userTokens({ tokenUrl: slow.url, clientId: 'bff', clientSecret: 'bff-secret' }),
          store: redisTokenStore({ client, prefix: 'logout:', pollInterval: 50 }),
          retry: false,
        })
      }
      const a = instanceOf()
      const b = instanceOf()
      await a.setSession('session-carol', login('carol'))
      a.invalidate('login-carol')
      const refreshing = a.getToken({ session: 'session-carol' })
      await new Promise((resolve) => setTimeout(resolve, 100)) // a holds the lock, asking

      await b.endSession('session-carol')

      expect((await refreshing).accessToken).toBe('token-1') // it began before the logout
      expect(slow.requests).toHaveLength(1)
      for (const manager of [a, b]) {
        await expect(manager.getToken({ session: 'session-carol' })).rejects.toMatchObject({
          code: 'login_required',
        })
      }
      expect(await (clients[0] as Redis).keys('logout:*token')).toEqual([])
    } finally {
      await slow.close()
    }
  })
})
