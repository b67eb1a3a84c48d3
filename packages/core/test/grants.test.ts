import { describe, expect, it } from 'vitest'
import {
  createTokenManager,
  customGrant,
  type Grant,
  passwordGrant,
  refreshTokenGrant,
  TokenEndpointError,
  type TokenEvent,
} from '../src/index'
import { ISSUER, manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const form = (body: string | undefined) => Object.fromEntries(new URLSearchParams(body ?? ''))

describe('password grant (legacy, RFC 6749 §4.3)', () => {
  it('logs in with a form body, then uses the refresh token, then logs in again when refresh fails', async () => {
    const clock = manualClock()
    const events: TokenEvent[] = []
    const seen = tokenEndpoint((request, index) => {
      const body = form(request.body)
      if (index === 0) return [200, { access_token: 'at-1', expires_in: 60, refresh_token: 'rt-1' }]
      if (index === 1)
        return body.grant_type === 'refresh_token'
          ? [200, { access_token: 'at-2', expires_in: 60 }]
          : [500, {}]
      if (index === 2) return [400, { error: 'invalid_grant' }]
      return [200, { access_token: 'at-3', expires_in: 60, refresh_token: 'rt-3' }]
    })
    const tokens = createTokenManager({
      grant: passwordGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'app',
        username: 'ada',
        password: 'p@ss word',
      }),
      now: clock.now,
      refreshSkew: 0,
      onEvent: (event) => events.push(event),
    })
    const first = await tokens.getToken()
    expect(form(seen[0]?.body)).toEqual({
      grant_type: 'password',
      username: 'ada',
      password: 'p@ss word',
      client_id: 'app',
    })
    expect(first.refreshToken).toBe('rt-1')

    clock.advance(60_000)
    const second = await tokens.getToken()
    expect(form(seen[1]?.body)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      client_id: 'app',
    })
    // No refresh token in the response: the old one is kept (RFC 6749 §6).
    expect(second).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-1' })

    clock.advance(60_000)
    const third = await tokens.getToken()
    expect(form(seen[2]?.body).grant_type).toBe('refresh_token')
    expect(form(seen[3]?.body).grant_type).toBe('password')
    expect(third).toMatchObject({ accessToken: 'at-3', refreshToken: 'rt-3' })
    expect(events.map((event) => event.type)).toContain('refresh_fallback')
  })

  it('sends a JSON body with client_secret_json', async () => {
    const seen = tokenEndpoint()
    const grant = passwordGrant({
      tokenUrl: TOKEN_URL,
      clientId: 'app',
      clientSecret: 's',
      clientAuth: 'client_secret_json',
      username: 'ada',
      password: 'pw',
    })
    await createTokenManager({ grant }).getToken()
    expect(seen[0]?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      grant_type: 'password',
      username: 'ada',
      password: 'pw',
      client_id: 'app',
      client_secret: 's',
    })
  })
})

describe('refresh token grant (RFC 6749 §6)', () => {
  it('uses the newest rotated refresh token and keeps the old one when none comes back', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_request, index) =>
      index === 0
        ? [200, { access_token: 'at-1', expires_in: 60, refresh_token: 'rt-2' }]
        : [200, { access_token: `at-${index + 1}`, expires_in: 60 }],
    )
    const tokens = createTokenManager({
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'app',
        clientSecret: 's',
        refreshToken: 'rt-1',
      }),
      now: clock.now,
      refreshSkew: 0,
    })
    await tokens.getToken()
    clock.advance(60_000)
    await tokens.getToken()
    clock.advance(60_000)
    await tokens.getToken()
    expect(seen.map((request) => form(request.body).refresh_token)).toEqual([
      'rt-1',
      'rt-2',
      'rt-2',
    ])
  })

  it('rotating refresh tokens are not burnt by concurrent refreshes: one request for 50 callers', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint(
      (_request, index) => [
        200,
        { access_token: `at-${index}`, expires_in: 60, refresh_token: `rt-${index + 2}` },
      ],
      { delay: 10 },
    )
    const tokens = createTokenManager({
      grant: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'rt-1' }),
      now: clock.now,
    })
    await tokens.getToken()
    clock.advance(60_000)
    await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()))
    expect(seen).toHaveLength(2)
    expect(form(seen[1]?.body).refresh_token).toBe('rt-2')
  })

  it('does not fall back to the initial refresh token after a rotated one fails', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint((_request, index) =>
      index === 0
        ? [200, { access_token: 'at-1', expires_in: 60, refresh_token: 'rt-2' }]
        : [400, { error: 'invalid_grant' }],
    )
    const tokens = createTokenManager({
      grant: refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'rt-1' }),
      now: clock.now,
      refreshSkew: 0,
    })
    await tokens.getToken()
    clock.advance(60_000)
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'invalid_grant' })
    expect(seen).toHaveLength(2)
  })
})

describe('custom grant', () => {
  it('expresses a JSON login with a nested response and a refresh endpoint in a few lines', async () => {
    const clock = manualClock()
    const login = tokenEndpoint(
      () => [
        200,
        {
          access_token: { token_type: 'bearer', token: 'at-login', expires_in: 3600 },
          refresh_token: 'rt-1',
        },
      ],
      { path: '/auth/login' },
    )
    const refreshed = tokenEndpoint(
      () => [
        200,
        {
          access_token: { token_type: 'bearer', token: 'at-refreshed', expires_in: 3600 },
          refresh_token: 'rt-2',
        },
      ],
      { path: '/auth/refresh' },
    )

    const grant = customGrant({
      tokenUrl: `${ISSUER}/auth/login`,
      request: () => ({ json: { username: 'ada', password: 'pw' } }),
      refresh: (refreshToken) => ({
        url: `${ISSUER}/auth/refresh`,
        json: { refresh_token: refreshToken },
      }),
      parse: (body) => {
        const token = body.access_token as { token: string; token_type: string; expires_in: number }
        return {
          accessToken: token.token,
          tokenType: token.token_type,
          expiresIn: token.expires_in,
          refreshToken: body.refresh_token as string,
        }
      },
    })
    const tokens = createTokenManager({ grant, now: clock.now })
    await expect(tokens.getToken()).resolves.toMatchObject({
      accessToken: 'at-login',
      tokenType: 'Bearer',
      refreshToken: 'rt-1',
      expiresAt: clock.now() + 3_600_000,
    })
    expect(JSON.parse(login[0]?.body ?? '')).toEqual({ username: 'ada', password: 'pw' })
    expect(login[0]?.headers['content-type']).toBe('application/json')

    const current = await tokens.getToken()
    tokens.invalidate(current.accessToken)
    await expect(tokens.getToken()).resolves.toMatchObject({
      accessToken: 'at-refreshed',
      refreshToken: 'rt-2',
    })
    expect(JSON.parse(refreshed[0]?.body ?? '')).toEqual({ refresh_token: 'rt-1' })
    expect(login).toHaveLength(1)
    // Requests to either endpoint never get a token from the adapters.
    expect(tokens.isTokenEndpoint(`${ISSUER}/auth/refresh`)).toBe(true)
    expect(tokens.isTokenEndpoint(`${ISSUER}/auth/login?x=1`)).toBe(true)
    expect(tokens.isTokenEndpoint(`${ISSUER}/api`)).toBe(false)
  })

  it('a parse that throws becomes a custom_grant_error that keeps the cause', async () => {
    tokenEndpoint(() => [200, { unexpected: true }], { path: '/login' })
    const grant = customGrant({
      tokenUrl: `${ISSUER}/login`,
      request: () => ({ form: { key: 'k' } }),
      parse: (body) => ({ accessToken: (body.data as { token: string }).token }),
    })
    const error = await createTokenManager({ grant, retry: false })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error).toMatchObject({ code: 'custom_grant_error', transient: false })
    expect((error as Error).cause).toBeInstanceOf(TypeError)
  })

  it('a request() or refresh() that throws is a custom_grant_error, not retried, its message kept out', async () => {
    const thrown = new Error('vault said no for password hunter2')
    const events: TokenEvent[] = []
    for (const request of [
      () => {
        throw thrown
      },
      () => Promise.reject(thrown),
    ]) {
      const tokens = createTokenManager({
        grant: customGrant({ tokenUrl: `${ISSUER}/login`, request }),
        onEvent: (event) => events.push(event),
      })
      const error = await tokens.getToken().catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'custom_grant_error', transient: false, cause: thrown })
      expect(String(error)).not.toContain('hunter2')
      expect(JSON.stringify(error)).not.toContain('hunter2')
      expect(tokens.stats()).toMatchObject({ requested: 1, retried: 0, failed: 1 })
    }
    expect(events.filter((event) => event.type === 'token_retry')).toEqual([])

    const login = tokenEndpoint(
      () => [200, { access_token: 'at-1', expires_in: 3600, refresh_token: 'rt-1' }],
      { path: '/login' },
    )
    const refreshing = createTokenManager({
      grant: customGrant({
        tokenUrl: `${ISSUER}/login`,
        request: () => ({ json: {} }),
        refresh: () => {
          throw thrown
        },
      }),
      onEvent: (event) => events.push(event),
    })
    const first = await refreshing.getToken()
    refreshing.invalidate(first.accessToken)
    await refreshing.getToken()
    // The failed refresh falls back to logging in again, and says why.
    expect(login).toHaveLength(2)
    expect(events.find((event) => event.type === 'refresh_fallback')).toMatchObject({
      error: { code: 'custom_grant_error', message: "The custom grant's refresh() failed" },
    })
  })

  it('a hand-written Grant whose own code throws fails with custom_grant_error too', async () => {
    const base = customGrant({ tokenUrl: `${ISSUER}/login`, request: () => ({ json: {} }) })
    const grant: Grant = {
      ...base,
      obtain: () => {
        throw new RangeError('bug in my grant')
      },
    }
    await expect(createTokenManager({ grant }).getToken()).rejects.toMatchObject({
      name: 'TokenEndpointError',
      code: 'custom_grant_error',
      cause: { name: 'RangeError' },
    })
  })
})
