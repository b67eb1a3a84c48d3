import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  basicAuthorization,
  ConfigError,
  clientCredentials,
  createTokenManager,
  customGrant,
  MemoryTokenStore,
  refreshTokenGrant,
  type TokenEvent,
} from '../src/index'
import { ISSUER, manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

/** Answers each request with a token named after what it asked for. */
function echoingEndpoint() {
  return tokenEndpoint((request) => {
    const body = request.body.startsWith('{')
      ? (JSON.parse(request.body) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(request.body))
    const name =
      body.refresh_token ?? body.tenant ?? body.username ?? body.audience ?? body.resource ?? 'none'
    // A URL's ":" is outside b64token (RFC 6750 §2.1): keep only the host part.
    return [200, { access_token: `at-for-${name.replace(/^https:\/\//, '')}`, expires_in: 3600 }]
  })
}

describe('the cache key covers everything that shapes a token', () => {
  it('keeps sessions of different refresh tokens apart in a shared store', async () => {
    echoingEndpoint()
    const store = new MemoryTokenStore()
    const alice = createTokenManager({
      store,
      grant: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'rt-alice' }),
    })
    const bob = createTokenManager({
      store,
      grant: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'rt-bob' }),
    })
    await expect(alice.getToken()).resolves.toMatchObject({ accessToken: 'at-for-rt-alice' })
    await expect(bob.getToken()).resolves.toMatchObject({ accessToken: 'at-for-rt-bob' })
    // The key names the session by a fingerprint, never by the refresh token itself.
    const events: TokenEvent[] = []
    const carol = createTokenManager({
      store,
      onEvent: (e) => events.push(e),
      grant: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'rt-carol' }),
    })
    await carol.getToken()
    expect(inspect(events)).not.toContain('rt-carol')
  })

  it('keeps tokens of different extra params, audiences and resources apart', async () => {
    const seen = echoingEndpoint()
    const store = new MemoryTokenStore()
    const cc = (extra: Partial<Parameters<typeof clientCredentials>[0]>) =>
      createTokenManager({
        store,
        grant: clientCredentials({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientSecret: 's',
          ...extra,
        }),
      })
    await expect(cc({ extraParams: { tenant: 't1' } }).getToken()).resolves.toMatchObject({
      accessToken: 'at-for-t1',
    })
    await expect(cc({ extraParams: { tenant: 't2' } }).getToken()).resolves.toMatchObject({
      accessToken: 'at-for-t2',
    })
    await expect(cc({ audience: 'https://a.test' }).getToken()).resolves.toMatchObject({
      accessToken: 'at-for-a.test',
    })
    await expect(cc({ audience: 'https://b.test' }).getToken()).resolves.toMatchObject({
      accessToken: 'at-for-b.test',
    })
    const shared = cc({})
    await expect(shared.getToken({ resource: 'https://r1.test/' })).resolves.toMatchObject({
      accessToken: 'at-for-r1.test/',
    })
    await expect(shared.getToken({ resource: 'https://r2.test/' })).resolves.toMatchObject({
      accessToken: 'at-for-r2.test/',
    })
    expect(seen).toHaveLength(6)
    // Same inputs, same token: the shared store answers.
    await expect(cc({ extraParams: { tenant: 't1' } }).getToken()).resolves.toMatchObject({
      accessToken: 'at-for-t1',
    })
    expect(seen).toHaveLength(6)
  })

  it('requires an identity before a custom grant may use a shared store', async () => {
    echoingEndpoint()
    const store = new MemoryTokenStore()
    const login = (username: string, identity?: string[]) =>
      customGrant({
        tokenUrl: TOKEN_URL,
        identity,
        request: () => ({ json: { username, password: 'pw' } }),
      })
    expect(() => createTokenManager({ store, grant: login('u1') })).toThrow(ConfigError)
    expect(() => createTokenManager({ store, grant: login('u1') })).toThrow(/"identity"/)
    const u1 = createTokenManager({ store, grant: login('u1', ['u1']) })
    const u2 = createTokenManager({ store, grant: login('u2', ['u2']) })
    await expect(u1.getToken()).resolves.toMatchObject({ accessToken: 'at-for-u1' })
    await expect(u2.getToken()).resolves.toMatchObject({ accessToken: 'at-for-u2' })
  })
})

describe('transport safety', () => {
  it('refuses a plain-http token endpoint off loopback unless explicitly allowed', () => {
    const grant = (tokenUrl: string, allowInsecureHttp?: boolean) =>
      clientCredentials({ tokenUrl, clientId: 'a', clientSecret: 's', allowInsecureHttp })
    expect(() => grant('http://auth.example.test/token')).toThrow(/"tokenUrl".*plain http/)
    expect(() => grant('http://127.0.0.1:8080/token')).not.toThrow()
    expect(() => grant('http://localhost/token')).not.toThrow()
    expect(() => grant('http://auth.internal/token', true)).not.toThrow()
  })
})

describe('failures', () => {
  const grant = () => clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's' })

  it('does not ask again before a Retry-After longer than the retries would wait', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_r, index) =>
      index === 0
        ? [429, { error: 'slow_down' }, { 'retry-after': '120' }]
        : [200, { access_token: 'at-1' }],
    )
    const tokens = createTokenManager({
      grant: grant(),
      now: clock.now,
      retry: { maxDelay: 10_000 },
      maxRetryAfter: 120_000,
    })
    const first = await tokens.getToken().catch((e: unknown) => e)
    expect(first).toMatchObject({ code: 'slow_down', retryAfter: 120_000 })
    await expect(tokens.getToken()).rejects.toBe(first)
    clock.advance(119_000)
    await expect(tokens.getToken()).rejects.toBe(first)
    expect(seen).toHaveLength(1)
    clock.advance(1_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(2)
  })

  it('caps a Retry-After of an hour at maxRetryAfter (default 60 s)', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_r, index) =>
      index === 0
        ? [503, { error: 'temporarily_unavailable' }, { 'retry-after': '3600' }]
        : [200, { access_token: 'at-1' }],
    )
    const tokens = createTokenManager({ grant: grant(), now: clock.now })
    const first = await tokens.getToken().catch((e: unknown) => e)
    expect(first).toMatchObject({ retryAfter: 3_600_000 })
    expect((first as Error).message).toMatch(
      /server asked to wait 3600 s; no new token request until \d{4}-\d\d-\d\dT/,
    )
    clock.advance(59_000)
    await expect(tokens.getToken()).rejects.toBe(first)
    expect(seen).toHaveLength(1)
    clock.advance(1_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(2)
  })

  it('gives up at the deadline across attempts and waits, saying how many and how long', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint(() => [503, { error: 'temporarily_unavailable' }])
    // Backoff waits (5 s: random 0.5 × 10 s) pass at once on the manual clock; the per-attempt
    // timeouts never fire.
    const timers = {
      setTimeout: (callback: () => void, ms: number) => {
        if (ms === 5_000) {
          clock.advance(ms)
          queueMicrotask(callback)
        }
        return 0
      },
      clearTimeout: () => undefined,
    }
    const tokens = createTokenManager({
      grant: grant(),
      now: clock.now,
      timers,
      random: () => 0.5,
      retry: { retries: 10, minDelay: 10_000, maxDelay: 10_000 },
      deadline: 12_000,
    })
    const error = await tokens.getToken().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'TokenEndpointError', code: 'timeout' })
    expect((error as Error).message).toContain('after 3 attempts over 10.0 s')
    expect(seen).toHaveLength(3)
  })

  it('gives an attempt started late only what is left of the deadline, never running past it', async () => {
    const clock = manualClock()
    const waits: number[] = []
    // Every timer fires at once, moving the clock on by its length.
    const timers = {
      setTimeout: (callback: () => void, ms: number) => {
        waits.push(ms)
        clock.advance(ms)
        queueMicrotask(callback)
        return 0
      },
      clearTimeout: () => undefined,
    }
    // A token endpoint that never answers: each attempt ends when its timeout aborts it.
    const hung = (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const started = clock.now()
    const tokens = createTokenManager({
      grant: grant(),
      fetch: hung,
      now: clock.now,
      timers,
      random: () => 0,
      timeout: 400,
      deadline: 1_000,
    })

    const error = await tokens.getToken().catch((e: unknown) => e)

    expect(error).toMatchObject({ name: 'TokenEndpointError', code: 'timeout' })
    expect((error as Error).message).toBe(
      'Token request gave up at its 1000 ms deadline after 3 attempts over 1.0 s',
    )
    expect((error as Error).cause).toMatchObject({ code: 'timeout' })
    // Attempts of 400, 400 and the 200 ms left (the backoff waits are 0 with random 0).
    expect(waits.filter((ms) => ms > 0)).toEqual([400, 400, 200])
    expect(clock.now() - started).toBe(1_000)
  })

  it('says how many attempts a retry-exhausted error took', async () => {
    tokenEndpoint(() => [503, { error: 'temporarily_unavailable' }])
    const tokens = createTokenManager({
      grant: grant(),
      retry: { retries: 1, minDelay: 0, maxDelay: 0 },
    })
    const error = await tokens.getToken().catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/after 2 attempts over \d+\.\d s/)
  })

  it('rejects a negative maxRetryAfter', () => {
    expect(() => createTokenManager({ grant: grant(), maxRetryAfter: -1 })).toThrow(ConfigError)
  })

  it('attempts invalid_grant (a 400) once: terminal errors are not retried', async () => {
    const seen = tokenEndpoint(() => [400, { error: 'invalid_grant' }])
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      code: 'invalid_grant',
      status: 400,
      transient: false,
    })
    expect(seen).toHaveLength(1)
  })

  it('never serves a token rejected while its early refresh was failing', async () => {
    const clock = manualClock()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let reached: () => void = () => undefined
    const refreshing = new Promise<void>((resolve) => {
      reached = resolve
    })
    const seen = tokenEndpoint(async (_r, index) => {
      if (index === 0) return [200, { access_token: 'at-1', expires_in: 120 }]
      if (index === 1) {
        reached()
        await gate
        return [400, { error: 'invalid_scope' }]
      }
      return [200, { access_token: 'at-2', expires_in: 120 }]
    })
    const tokens = createTokenManager({ grant: grant(), now: clock.now, refreshSkew: 30_000 })
    const first = await tokens.getToken()
    clock.advance(95_000) // early-refresh window
    const early = tokens.getToken()
    await refreshing // the early refresh has reached the server
    tokens.invalidate(first.accessToken) // a 401 arrives meanwhile
    release()
    await expect(early).rejects.toMatchObject({ code: 'invalid_scope' })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(3)
  })

  it('a proactive refresh and a 401 at the same moment make one token request', async () => {
    const clock = manualClock()
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}`, expires_in: 120 }], {
      delay: 20,
    })
    const tokens = createTokenManager({ grant: grant(), now: clock.now, refreshSkew: 30_000 })
    const first = await tokens.getToken()
    clock.advance(95_000)
    const proactive = tokens.getToken()
    tokens.invalidate(first.accessToken)
    const afterRejection = tokens.getToken()
    await expect(Promise.all([proactive, afterRejection])).resolves.toMatchObject([
      { accessToken: 'at-2' },
      { accessToken: 'at-2' },
    ])
    expect(seen).toHaveLength(2)
  })
})

describe('secrets on the success path', () => {
  it('keeps issued tokens and the Basic credentials out of events and the manager views', async () => {
    const events: TokenEvent[] = []
    tokenEndpoint(() => [
      200,
      { access_token: 'at-Yy70', refresh_token: 'rt-Qw31', expires_in: 60 },
    ])
    const tokens = createTokenManager({
      grant: clientCredentials({
        tokenUrl: `${ISSUER}/oauth/token`,
        clientId: 'svc',
        clientSecret: 'cs-Pp09',
      }),
      onEvent: (e) => events.push(e),
    })
    await tokens.getToken()
    const views = [
      inspect(events, { depth: 10 }),
      inspect(tokens, { depth: 10, showHidden: true }),
      JSON.stringify(tokens),
    ]
    for (const view of views) {
      for (const secret of [
        'at-Yy70',
        'rt-Qw31',
        'cs-Pp09',
        basicAuthorization('svc', 'cs-Pp09').slice(6),
      ])
        expect(view).not.toContain(secret)
    }
  })
})
