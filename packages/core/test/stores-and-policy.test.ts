import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { createRequestPolicy } from '../src/adapter'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  isTokenRejected,
  MemoryTokenStore,
  type Token,
  type TokenEvent,
  type TokenLock,
  type TokenStore,
} from '../src/index'
import { sharedStore } from '../src/store'
import { ISSUER, manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const grant = () =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' })

/** An in-memory store with the optional lock capability, like a shared store would offer. */
class LockingStore extends MemoryTokenStore implements TokenStore {
  readonly #locks = new Set<string>()
  readonly #waiters: Array<() => void> = []

  acquire(key: string): TokenLock | undefined {
    if (this.#locks.has(key)) return undefined
    this.#locks.add(key)
    return {
      release: () => {
        this.#locks.delete(key)
        for (const wake of this.#waiters.splice(0)) wake()
      },
    }
  }

  waitForChange(_key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve)
      setTimeout(resolve, timeoutMs)
    })
  }
}

describe('token stores', () => {
  it('the in-memory store forgets the least recently used token beyond maxEntries', () => {
    const store = new MemoryTokenStore({ maxEntries: 2 })
    const token = (accessToken: string): Token => ({
      accessToken,
      tokenType: 'Bearer',
      expiresAt: undefined,
      refreshAt: undefined,
      raw: {},
    })
    store.set('a', token('a'))
    store.set('b', token('b'))
    store.get('a')
    store.set('c', token('c'))
    expect([store.get('a')?.accessToken, store.get('b'), store.get('c')?.accessToken]).toEqual([
      'a',
      undefined,
      'c',
    ])
    expect(() => new MemoryTokenStore({ maxEntries: 0 })).toThrow(ConfigError)
  })

  it('managers sharing a locking store make one token request between them', async () => {
    const seen = tokenEndpoint(undefined, { delay: 20 })
    const store = new LockingStore()
    const managers = Array.from({ length: 4 }, () => createTokenManager({ grant: grant(), store }))
    const tokens = await Promise.all(
      managers.flatMap((manager) => Array.from({ length: 25 }, () => manager.getToken())),
    )
    expect(seen).toHaveLength(1)
    expect(new Set(tokens.map((token) => token.accessToken)).size).toBe(1)
    expect(managers.reduce((sum, manager) => sum + manager.stats().fromStore, 0)).toBe(3)
  })

  it('a TokenStore of your own, wrapped by sharedStore(), locks through its own acquire and waitForChange: one token request for 4 managers', async () => {
    const seen = tokenEndpoint(undefined, { delay: 20 })
    const locking = new LockingStore()
    const calls: string[] = []
    // A plain object, as an app would write one over its own cache: methods that need `this`.
    const own: TokenStore = {
      get(key) {
        calls.push('get')
        return locking.get(key)
      },
      set(key, token) {
        calls.push('set')
        locking.set(key, token)
      },
      delete(key) {
        locking.delete(key)
      },
      acquire(key) {
        calls.push('acquire')
        return locking.acquire(key)
      },
      waitForChange(key, timeoutMs) {
        calls.push('waitForChange')
        return locking.waitForChange(key, timeoutMs)
      },
    }
    const store = sharedStore(own)
    const managers = Array.from({ length: 4 }, () => createTokenManager({ grant: grant(), store }))
    const tokens = await Promise.all(
      managers.flatMap((manager) => Array.from({ length: 25 }, () => manager.getToken())),
    )
    expect(seen).toHaveLength(1)
    expect(new Set(tokens.map((token) => token.accessToken)).size).toBe(1)
    expect(calls.filter((call) => call === 'set')).toHaveLength(1)
    expect(calls).toContain('acquire')
    expect(calls).toContain('waitForChange')
  })

  it('a TokenStore given as store without sharedStore() is a ConfigError naming store and the fix; nothing is sent', () => {
    const plain: TokenStore = { get: () => undefined, set: () => {}, delete: () => {} }
    const make = () =>
      createTokenManager({
        grant: grant(),
        store: plain as unknown as ReturnType<typeof sharedStore>,
      })
    expect(make).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        option: 'store',
        message: expect.stringContaining(
          "wrap a TokenStore of your own with sharedStore() from '@oauth-interceptors/core/store'",
        ),
      }),
    )
  })

  it('sharedStore() names a missing method, and returns a store made for sharing as it is', () => {
    const noDelete = { get: () => undefined, set: () => {} } as unknown as TokenStore
    expect(() => sharedStore(noDelete)).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        option: 'store',
        message: expect.stringContaining('delete is not a function'),
      }),
    )
    const memory = new MemoryTokenStore()
    expect(sharedStore(memory)).toBe(memory)
  })

  it('the stale-401 rule holds across managers: a token another one replaced is reused', async () => {
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}`, expires_in: 3600 }])
    const store = new LockingStore()
    const [a, b] = [
      createTokenManager({ grant: grant(), store }),
      createTokenManager({ grant: grant(), store }),
    ]
    const old = await a.getToken()
    await b.getToken()
    a.invalidate(old.accessToken)
    await expect(a.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    b.invalidate(old.accessToken)
    await expect(b.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
  })

  it('never takes a shared token older than the one it replaces (the store missed a write)', async () => {
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}`, expires_in: 3600 }])
    const clock = manualClock()
    const memory = new LockingStore()
    let down = false
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token) => {
        if (down) throw new Error('ECONNRESET')
        memory.set(key, token)
      },
      delete: (key) => memory.delete(key),
    }
    const tokens = createTokenManager({ grant: grant(), store: sharedStore(store), now: clock.now })
    const first = await tokens.getToken()
    down = true // at-2 never reaches the store, which keeps at-1
    clock.advance(10_000)
    tokens.invalidate(first.accessToken)
    const second = await tokens.getToken()
    expect(second.accessToken).toBe('at-2')
    down = false
    tokens.invalidate(second.accessToken)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-3' })
    expect(seen).toHaveLength(3)
  })

  it('a failing store never fails getToken: it reports store_error and carries on', async () => {
    const seen = tokenEndpoint()
    const events: TokenEvent[] = []
    const broken: TokenStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      delete: () => Promise.reject(new Error('ECONNREFUSED')),
      acquire: () => Promise.reject(new Error('ECONNREFUSED')),
    }
    const tokens = createTokenManager({
      grant: grant(),
      store: sharedStore(broken),
      onEvent: (event) => events.push(event),
    })
    await expect(Promise.all([tokens.getToken(), tokens.getToken()])).resolves.toHaveLength(2)
    expect(seen).toHaveLength(1)
    expect(
      events
        .filter((event) => event.type === 'store_error')
        .map((event) => event.type === 'store_error' && event.operation),
    ).toEqual(['get', 'acquire', 'set'])
  })
})

describe('request policy (what every adapter applies)', () => {
  const manager = () => createTokenManager({ grant: grant() })

  it('sends the token only to allowed origins and never to the token endpoint', () => {
    const policy = createRequestPolicy({
      manager: manager(),
      origins: ['https://api.example.test'],
    })
    expect(policy.appliesTo('https://api.example.test/orders')).toBe(true)
    expect(policy.appliesTo('https://api.example.test:8443/orders')).toBe(false)
    expect(policy.appliesTo('http://api.example.test/orders')).toBe(false)
    expect(policy.appliesTo('https://evil.example/orders')).toBe(false)
    const everywhere = createRequestPolicy({ manager: manager(), origins: '*' })
    expect(everywhere.appliesTo('https://anything.example/x')).toBe(true)
    expect(everywhere.appliesTo(`${TOKEN_URL}?x=1`)).toBe(false)
  })

  it('defaults origins to the base URL, and fails fast without either', () => {
    expect(
      createRequestPolicy(manager(), { baseUrl: 'https://api.example.test/v1/' }).appliesTo(
        'https://api.example.test/other',
      ),
    ).toBe(true)
    expect(() => createRequestPolicy(manager(), { client: 'fetch client' })).toThrow(
      /origins.*no base URL.*origins: '\*'/s,
    )
  })

  it('writes the header as Bearer, token_type, raw, or under a custom name with static headers', () => {
    const token: Token = {
      accessToken: 'abc',
      tokenType: 'DPoP',
      expiresAt: undefined,
      refreshAt: undefined,
      raw: {},
    }
    const m = manager()
    const o = { origins: '*' as const }
    expect(createRequestPolicy({ manager: m, ...o }).headersFor(token)).toEqual({
      authorization: 'Bearer abc',
    })
    expect(
      createRequestPolicy({ manager: m, ...o, scheme: 'token_type' }).headersFor(token),
    ).toEqual({ authorization: 'DPoP abc' })
    expect(
      createRequestPolicy({
        manager: m,
        ...o,
        scheme: false,
        headers: { 'X-Api-Key': 'k' },
      }).headersFor(token),
    ).toEqual({ authorization: 'abc', 'x-api-key': 'k' })
    const custom = createRequestPolicy({
      manager: m,
      ...o,
      header: 'X-Access-Token',
      scheme: false,
    })
    expect(custom.headersFor(token)).toEqual({ 'x-access-token': 'abc' })
    expect(custom.headerNames).toEqual(['x-access-token'])
    expect(() => createRequestPolicy({ manager: m, ...o, header: 'bad header' })).toThrow(
      ConfigError,
    )
  })

  it('asks adapters to follow redirects themselves outside browsers, so every hop is judged', () => {
    const m = manager()
    expect(createRequestPolicy({ manager: m, origins: 'https://api.example.test' })).toMatchObject({
      followsRedirects: true,
    })
  })

  it('in a browser, only when the platform could leak or lose the token (a manual redirect is opaque there)', () => {
    vi.stubGlobal('document', {})
    onTestFinished(() => {
      vi.unstubAllGlobals()
    })
    const m = manager()
    const follows = (options: Parameters<typeof createRequestPolicy>[0]) =>
      createRequestPolicy(options).followsRedirects
    expect(follows({ manager: m, origins: 'https://api.example.test' })).toBe(false)
    expect(
      follows({ manager: m, origins: 'https://api.example.test', header: 'x-access-token' }),
    ).toBe(true)
    expect(
      follows({ manager: m, origins: 'https://api.example.test', headers: { 'x-api-key': 'k' } }),
    ).toBe(true)
    expect(
      follows({ manager: m, origins: ['https://a.example.test', 'https://b.example.test'] }),
    ).toBe(true)
    expect(follows({ manager: m, origins: '*' })).toBe(true)
  })

  it('builds its own manager from manager options', async () => {
    tokenEndpoint()
    const policy = createRequestPolicy({ grant: grant(), origins: ISSUER })
    await expect(policy.exchange(`${ISSUER}/api`)?.credentials()).resolves.toEqual({
      authorization: 'Bearer at-1',
    })
  })

  it('recognises token rejections and never treats 403 as one', () => {
    const response = (status: number, headers: Record<string, string> = {}) => ({
      status,
      headers: new Headers(headers),
    })
    expect(isTokenRejected(response(401))).toBe(true)
    expect(
      isTokenRejected(response(403, { 'www-authenticate': 'Bearer error="insufficient_scope"' })),
    ).toBe(false)
    expect(isTokenRejected(response(403, { 'token-expired': 'true' }))).toBe(false)
    expect(
      isTokenRejected(
        response(400, {
          'www-authenticate':
            'Bearer error="invalid_token", error_description="The token is expired"',
        }),
      ),
    ).toBe(true)
    expect(isTokenRejected(response(440, { 'Token-Expired': 'true' }))).toBe(true)
    expect(isTokenRejected(response(500))).toBe(false)
    expect(isTokenRejected(response(200, { 'token-expired': 'true' }))).toBe(false)
  })
})

describe('origins are origins, and token endpoints are compared as URLs', () => {
  const manager = () => createTokenManager({ grant: grant() })

  it('rejects an origin with a path, query, fragment or credentials, naming the origin it meant', () => {
    for (const origin of [
      'https://api.example.com/v1',
      'https://api.example.com/?a=1',
      'https://api.example.com/#x',
      'https://user:pw@api.example.com',
    ]) {
      const error = (() => {
        try {
          createRequestPolicy({ manager: manager(), origins: [origin] })
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({ option: 'origins' })
      expect((error as Error).message).toContain("origins: ['https://api.example.com']")
      expect((error as Error).message).not.toContain('pw')
    }
  })

  it('normalises scheme and host case and default ports; a base URL may have a path', () => {
    const policy = createRequestPolicy({
      manager: manager(),
      origins: 'HTTPS://API.Example.com:443/',
    })
    expect(policy.appliesTo('https://api.example.com/orders')).toBe(true)
    const fromBase = createRequestPolicy(manager(), { baseUrl: 'https://api.example.com/v1/' })
    expect(fromBase.appliesTo('https://api.example.com/other')).toBe(true)
  })

  it('never gives the token to the token endpoint written another way, even with origins "*"', () => {
    const policy = createRequestPolicy({ manager: manager(), origins: '*' })
    for (const url of [
      TOKEN_URL,
      `${TOKEN_URL}/`,
      `${TOKEN_URL}?x=1`,
      TOKEN_URL.replace('/oauth/token', '//oauth//token'),
      TOKEN_URL.replace('https://auth.example.test', 'https://AUTH.Example.TEST:443'),
    ]) {
      expect(policy.appliesTo(url), url).toBe(false)
    }
    expect(policy.appliesTo(`${ISSUER}/oauth/tokens`)).toBe(true)
  })
})
