import { afterEach, describe, expect, it, vi } from 'vitest'
import { clientCredentials, createTokenManager } from '../src/index'
import { EARLY_REFRESH_RETRY_INTERVAL } from '../src/manager/expiry'
import { jwt, manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const grant = () =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' })

/** Token endpoint that numbers its tokens and answers `body` extras. */
function numbered(extra: Record<string, unknown>, headers?: Record<string, string>) {
  let issued = 0
  return tokenEndpoint(() => [
    200,
    { access_token: `at-${++issued}`, token_type: 'bearer', ...extra },
    headers,
  ])
}

describe('expiry', () => {
  it('refreshes refreshSkew before expires_in', async () => {
    const clock = manualClock()
    const seen = numbered({ expires_in: 3600 })
    const tokens = createTokenManager({ grant: grant(), now: clock.now, refreshSkew: 60_000 })
    const first = await tokens.getToken()
    expect(first).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: clock.now() + 3_600_000,
      refreshAt: clock.now() + 3_540_000,
    })

    clock.advance(3_539_999)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    clock.advance(1)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
    expect(tokens.stats().reasons).toEqual({ cold: 1, expiring: 1, rejected: 0 })
  })

  it('caps the skew at half the lifetime: a 30 s token is used for 15 s, not refreshed on every call', async () => {
    const clock = manualClock()
    const seen = numbered({ expires_in: 30 })
    const tokens = createTokenManager({ grant: grant(), now: clock.now, refreshSkew: 60_000 })
    await tokens.getToken()
    for (let i = 0; i < 10; i++) await tokens.getToken()
    expect(seen).toHaveLength(1)
    clock.advance(14_999)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    clock.advance(1)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
  })

  it('accepts expires_in as a numeric string', async () => {
    const clock = manualClock()
    numbered({ expires_in: '120' })
    const token = await createTokenManager({
      grant: grant(),
      now: clock.now,
      refreshSkew: 0,
    }).getToken()
    expect(token.expiresAt).toBe(clock.now() + 120_000)
  })

  it.each([
    ['missing', {}],
    ['NaN', { expires_in: 'soon' }],
    ['zero', { expires_in: 0 }],
  ])(
    'with expires_in %s, keeps the token until a 401 (no defaultLifetime)',
    async (_name, extra) => {
      const clock = manualClock()
      const seen = numbered(extra)
      const tokens = createTokenManager({ grant: grant(), now: clock.now })
      const first = await tokens.getToken()
      expect(first.expiresAt).toBeUndefined()
      clock.advance(365 * 24 * 3_600_000)
      await expect(tokens.getToken()).resolves.toBe(first)
      expect(seen).toHaveLength(1)
      tokens.invalidate(first.accessToken)
      await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    },
  )

  it('uses defaultLifetime when the response has no expires_in (8 h provider)', async () => {
    const clock = manualClock()
    const seen = numbered({})
    const tokens = createTokenManager({
      grant: grant(),
      now: clock.now,
      defaultLifetime: 8 * 3_600_000,
    })
    const first = await tokens.getToken()
    expect(first.expiresAt).toBe(clock.now() + 8 * 3_600_000)
    clock.advance(8 * 3_600_000 - 60_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
  })

  it('reads exp from a JWT access token when expires_in is missing, and ignores opaque tokens', async () => {
    const clock = manualClock()
    const exp = Math.floor(Date.now() / 1000) + 600
    tokenEndpoint(() => [200, { access_token: jwt({ exp, sub: 'svc' }), token_type: 'Bearer' }])
    const token = await createTokenManager({
      grant: grant(),
      now: clock.now,
      refreshSkew: 0,
    }).getToken()
    const lifetime = (token.expiresAt ?? 0) - clock.now()
    expect(lifetime).toBeGreaterThan(590_000)
    expect(lifetime).toBeLessThanOrEqual(600_000)
  })

  it('expires_in wins over a JWT exp', async () => {
    const clock = manualClock()
    tokenEndpoint(() => [
      200,
      { access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 600 }), expires_in: 60 },
    ])
    const token = await createTokenManager({ grant: grant(), now: clock.now }).getToken()
    expect(token.expiresAt).toBe(clock.now() + 60_000)
  })

  it('serves a still-valid token when an early refresh fails, and tries again later', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_request, index) =>
      index === 0
        ? [200, { access_token: 'at-1', expires_in: 120 }]
        : index === 1
          ? [400, { error: 'invalid_scope' }]
          : [200, { access_token: 'at-2', expires_in: 120 }],
    )
    const tokens = createTokenManager({ grant: grant(), now: clock.now, refreshSkew: 30_000 })
    await tokens.getToken()
    clock.advance(95_000) // inside the 30 s window, 25 s before expiry
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(2)
    clock.advance(5_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(3)
  })

  it('tries a failed early refresh again after 5 s, or at half the time left when sooner', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_request, index) =>
      index === 0
        ? [200, { access_token: 'at-1', expires_in: 20 }]
        : index === 1
          ? [503, 'busy']
          : [200, { access_token: 'at-2', expires_in: 20 }],
    )
    const tokens = createTokenManager({ grant: grant(), now: clock.now, retry: false })
    await tokens.getToken()
    expect(EARLY_REFRESH_RETRY_INTERVAL).toBe(5_000)
    clock.advance(16_000) // skew capped at 10 s; 4 s left
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    clock.advance(1_999)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(2)
    clock.advance(1)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(3)
  })
})

describe('expiry with fake timers and the default clock', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('refreshes once the default monotonic clock passes the refresh time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
    const seen = numbered({ expires_in: 120 })
    const tokens = createTokenManager({ grant: grant(), refreshSkew: 20_000 })
    await tokens.getToken()
    vi.advanceTimersByTime(99_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    vi.advanceTimersByTime(1_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
  })

  it('a wall-clock jump does not expire a token: the default clock is monotonic', async () => {
    const seen = numbered({ expires_in: 3600 })
    const tokens = createTokenManager({ grant: grant() })
    await tokens.getToken()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 48 * 3_600_000)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(1)
  })
})
