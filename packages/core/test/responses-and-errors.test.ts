import { inspect } from 'node:util'
import nock from 'nock'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { isTransientOAuthError, isTransientStatus } from '../src/errors'
import {
  basicAuthorization,
  ConfigError,
  clientCredentials,
  createTokenManager,
  customGrant,
  type ErrorCode,
  isOAuthError,
  OAuthError,
  OAuthInterceptorsError,
  passwordGrant,
  refreshTokenGrant,
  TokenEndpointError,
  type TokenEvent,
} from '../src/index'
import { fakeTimers, ISSUER, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const SECRET = 'client-secret-Zq9'
const grant = () =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET })

describe('token responses (RFC 6749 §5.1)', () => {
  it('reads a form-encoded response body', async () => {
    nock(ISSUER)
      .post('/oauth/token')
      .reply(200, 'access_token=at-form&token_type=BEARER&expires_in=60', {
        'content-type': 'application/x-www-form-urlencoded',
      })
    const token = await createTokenManager({ grant: grant() }).getToken()
    expect(token).toMatchObject({ accessToken: 'at-form', tokenType: 'Bearer' })
  })

  it('treats a 200 carrying an error member as an error', async () => {
    tokenEndpoint(() => [200, { error: 'invalid_grant', error_description: 'nope' }])
    const error = await createTokenManager({ grant: grant() })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({
      code: 'invalid_grant',
      errorDescription: 'nope',
      status: 200,
      transient: false,
    })
    expect(isOAuthError(error)).toBe(true)
  })

  it('a response without access_token is an error', async () => {
    tokenEndpoint(() => [200, { token_type: 'Bearer', expires_in: 60 }])
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      name: 'TokenEndpointError',
      code: 'invalid_response',
    })
  })

  it('a non-JSON body is an invalid response', async () => {
    nock(ISSUER)
      .post('/oauth/token')
      .reply(200, '<html>login</html>', { 'content-type': 'text/html' })
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      code: 'invalid_response',
    })
  })
})

describe('what counts as transient', () => {
  it('counts 408 as transient, with and without an OAuth error body', async () => {
    tokenEndpoint((_r, index) =>
      index === 0 ? [408, 'request timeout'] : [408, { error: 'request_timeout' }],
    )
    const tokens = createTokenManager({ grant: grant(), retry: false })
    await expect(tokens.getToken()).rejects.toMatchObject({
      name: 'TokenEndpointError',
      code: 'http_error',
      status: 408,
      transient: true,
    })
    await expect(tokens.getToken()).rejects.toMatchObject({
      name: 'OAuthError',
      code: 'request_timeout',
      status: 408,
      transient: true,
    })
  })

  it('applies one status rule: 408, 429 and 5xx; terminal OAuth codes never', () => {
    expect([400, 401, 403, 404, 408, 429, 500, 503].filter(isTransientStatus)).toEqual([
      408, 429, 500, 503,
    ])
    expect(isTransientOAuthError('temporarily_unavailable', 400)).toBe(true)
    expect(isTransientOAuthError('server_error', 200)).toBe(true)
    expect(isTransientOAuthError('slow_down', 408)).toBe(true)
    expect(isTransientOAuthError('invalid_client', 503)).toBe(false)
    expect(isTransientOAuthError('invalid_grant', 408)).toBe(false)
    expect(new OAuthError({ error: 'busy' }, 408).transient).toBe(true)
  })
})

describe('error fields', () => {
  it('every library error has retryAfter, undefined unless the server asked for a pause', () => {
    const errors: OAuthInterceptorsError[] = [
      new ConfigError('timeout', 'bad', 'fix'),
      new TokenEndpointError('down', 'network_error', { transient: true }),
      new OAuthError({ error: 'invalid_client' }, 401),
    ]
    for (const error of errors) {
      expect(Object.hasOwn(error, 'retryAfter')).toBe(true)
      expect(error.retryAfter).toBeUndefined()
    }
    expect(new OAuthError({ error: 'slow_down' }, 429, 2_000).retryAfter).toBe(2_000)
    expect(new OAuthInterceptorsError('m', 'x', { retryAfter: 5 }).retryAfter).toBe(5)
    expect(JSON.parse(JSON.stringify(new OAuthError({ error: 'a' }, 503, 7)))).toMatchObject({
      retryAfter: 7,
    })
  })

  it('types code as the union of known codes, still open to any code a server sends', () => {
    expectTypeOf<OAuthInterceptorsError['code']>().toEqualTypeOf<ErrorCode>()
    expectTypeOf<'custom_grant_error'>().toExtend<TokenEndpointError['code']>()
    expectTypeOf<'invalid_config' | 'invalid_grant' | 'use_dpop_nonce'>().toExtend<ErrorCode>()
    const fromServer: ErrorCode = 'vendor_specific_code'
    expect(new OAuthError({ error: fromServer }, 400).code).toBe('vendor_specific_code')
  })
})

describe('retries', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries 5xx with jittered, doubling backoff on the injected timers and random', async () => {
    const events: TokenEvent[] = []
    const seen = tokenEndpoint((_r, index) =>
      index < 2 ? [503, 'busy'] : [200, { access_token: 'at-1' }],
    )
    const clock = fakeTimers()
    const random = vi.fn(() => 0.5)
    const tokens = createTokenManager({
      grant: grant(),
      timers: clock.timers,
      random,
      onEvent: (e) => events.push(e),
    })
    const token = tokens.getToken()
    await clock.fire(100) // half (the random) of minDelay 200
    await clock.fire(200) // half of 400: the step doubled
    await expect(token).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(3)
    expect(random).toHaveBeenCalledTimes(2)
    expect(events.filter((e) => e.type === 'token_retry').map((e) => e.delay)).toEqual([100, 200])
    // Each attempt's timeout was set on the injected timers too, and cleared.
    expect(clock.scheduled).toEqual([10_000, 100, 10_000, 200, 10_000])
    expect(clock.pending()).toEqual([])
    expect(tokens.stats()).toMatchObject({ requested: 3, retried: 2, received: 1 })
  })

  it('honours Retry-After on 429, and gives up when it asks for more than maxDelay', async () => {
    // The default timers are the globals, looked up at each call: vitest's fake ones apply.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const events: TokenEvent[] = []
    const seen = tokenEndpoint((_r, index) =>
      index === 0
        ? [429, { error: 'slow_down' }, { 'retry-after': '1' }]
        : [200, { access_token: 'at-1' }],
    )
    let retrying: () => void = () => undefined
    const retried = new Promise<void>((resolve) => {
      retrying = resolve
    })
    const tokens = createTokenManager({
      grant: grant(),
      retry: { minDelay: 1 },
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'token_retry') retrying()
      },
    })
    const token = tokens.getToken()
    await retried
    await vi.advanceTimersByTimeAsync(999)
    expect(seen).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(token).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(2)
    expect(events.find((e) => e.type === 'token_retry')).toMatchObject({ delay: 1000 })
    vi.useRealTimers()

    nock.cleanAll()
    const limited = tokenEndpoint(() => [503, '', { 'retry-after': '120' }])
    const impatient = createTokenManager({ grant: grant(), retry: { maxDelay: 10_000 } })
    await expect(impatient.getToken()).rejects.toMatchObject({ status: 503, retryAfter: 120_000 })
    expect(limited).toHaveLength(1)
  })

  it('does not retry terminal errors (invalid_client, invalid_grant, 4xx)', async () => {
    const seen = tokenEndpoint(() => [
      401,
      { error: 'invalid_client' },
      { 'www-authenticate': 'Basic' },
    ])
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      code: 'invalid_client',
      status: 401,
    })
    expect(seen).toHaveLength(1)
  })

  it('gives up after the configured retries with the last error', async () => {
    const seen = tokenEndpoint(() => [502, ''])
    const clock = fakeTimers()
    const failing = createTokenManager({
      grant: grant(),
      retry: { retries: 2, minDelay: 1, maxDelay: 2 },
      timers: clock.timers,
      random: () => 1,
    })
      .getToken()
      .catch((e: unknown) => e)
    await clock.fire(1)
    await clock.fire(2) // capped at maxDelay
    const error = await failing
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error).toMatchObject({ code: 'http_error', status: 502, transient: true })
    expect(seen).toHaveLength(3)
  })

  it('times out a token request that hangs, as a transient error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let reached: () => void = () => undefined
    const hanging = new Promise<void>((resolve) => {
      reached = resolve
    })
    tokenEndpoint(() => {
      reached()
      return new Promise(() => undefined) // never answers
    })
    const token = createTokenManager({ grant: grant(), timeout: 50, retry: false })
      .getToken()
      .catch((e: unknown) => e)
    await hanging
    await vi.advanceTimersByTimeAsync(50)
    expect(await token).toMatchObject({
      code: 'timeout',
      transient: true,
      message: 'The token request timed out after 50 ms',
    })
  })

  it('runs the token-request timeout on the injected timers', async () => {
    let reached: () => void = () => undefined
    const hanging = new Promise<void>((resolve) => {
      reached = resolve
    })
    tokenEndpoint(() => {
      reached()
      return new Promise(() => undefined)
    })
    const clock = fakeTimers()
    const token = createTokenManager({
      grant: grant(),
      timeout: 5_000,
      retry: false,
      timers: clock.timers,
    })
      .getToken()
      .catch((e: unknown) => e)
    await hanging
    expect(clock.pending()).toEqual([5_000])
    await clock.fire(5_000)
    expect(await token).toMatchObject({ code: 'timeout', transient: true })
  })

  it('reports network failures as transient TokenEndpointError', async () => {
    nock(ISSUER).post('/oauth/token').replyWithError('socket hang up')
    await expect(
      createTokenManager({ grant: grant(), retry: false }).getToken(),
    ).rejects.toMatchObject({
      code: 'network_error',
      transient: true,
    })
  })
})

describe('no secret leaves in errors, inspect output or events', () => {
  it('keeps client secret, password, refresh and access tokens out of every error view', async () => {
    // The Basic header carries the secret base64-encoded: look for that form too.
    const secrets = [SECRET, basicAuthorization('svc', SECRET).slice(6), 'pw-Kx81', 'rt-Lm22']
    const events: TokenEvent[] = []
    nock(ISSUER)
      .post('/oauth/token')
      .reply(400, { error: 'invalid_grant', error_description: 'bad credentials' })
      .post('/oauth/token')
      .reply(500, 'internal error')
      .post('/oauth/token')
      .replyWithError(`connection reset`)
    const managers = [
      createTokenManager({
        grant: passwordGrant({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientSecret: SECRET,
          username: 'u',
          password: 'pw-Kx81',
        }),
        onEvent: (e) => events.push(e),
      }),
      createTokenManager({
        grant: refreshTokenGrant({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientSecret: SECRET,
          refreshToken: 'rt-Lm22',
        }),
        retry: false,
        onEvent: (e) => events.push(e),
      }),
      createTokenManager({ grant: grant(), retry: false, onEvent: (e) => events.push(e) }),
    ]
    for (const manager of managers) {
      const error = await manager.getToken().catch((e: unknown) => e)
      const views = [
        String(error),
        (error as Error).message,
        JSON.stringify(error),
        inspect(error, { depth: 10, showHidden: true }),
        inspect(manager, { depth: 10, showHidden: true }),
        JSON.stringify(manager),
      ]
      for (const view of views) for (const secret of secrets) expect(view).not.toContain(secret)
    }
    const eventText = inspect(events, { depth: 10 })
    for (const secret of secrets) expect(eventText).not.toContain(secret)
    expect(events.map((e) => e.type)).toContain('token_failed')
  })

  it('keeps secrets out of ConfigError messages', () => {
    const error = (() => {
      try {
        clientCredentials({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientSecret: SECRET,
          clientAuth: 'bogus' as never,
        })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(String(error)).not.toContain(SECRET)
  })
})

describe('configuration errors name the option and the fix', () => {
  const cases: Array<[string, () => unknown, string]> = [
    [
      'clientId',
      () => clientCredentials({ tokenUrl: TOKEN_URL, clientId: '', clientSecret: 'x' }),
      'clientId',
    ],
    [
      'tokenUrl relative',
      () => clientCredentials({ tokenUrl: '/oauth/token', clientId: 'a', clientSecret: 'x' }),
      'tokenUrl',
    ],
    [
      'tokenUrl ftp',
      () => clientCredentials({ tokenUrl: 'ftp://x/token', clientId: 'a', clientSecret: 'x' }),
      'tokenUrl',
    ],
    [
      'clientSecret',
      () =>
        clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'a', clientAuth: 'client_secret_post' }),
      'clientSecret',
    ],
    [
      'resource fragment',
      () =>
        clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'a', resource: 'https://api.test/#x' }),
      'resource',
    ],
    [
      'resource relative',
      () => clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'a', resource: 'api' }),
      'resource',
    ],
    ['grant', () => createTokenManager({} as never), 'grant'],
    ['refreshSkew', () => createTokenManager({ grant: grant(), refreshSkew: -1 }), 'refreshSkew'],
    [
      'defaultLifetime',
      () => createTokenManager({ grant: grant(), defaultLifetime: 0 }),
      'defaultLifetime',
    ],
    ['timeout', () => createTokenManager({ grant: grant(), timeout: Number.NaN }), 'timeout'],
    [
      'timers',
      () => createTokenManager({ grant: grant(), timers: { setTimeout } as never }),
      'timers',
    ],
    ['random', () => createTokenManager({ grant: grant(), random: 0.5 as never }), 'random'],
    ['cacheSize', () => createTokenManager({ grant: grant(), cacheSize: 0 }), 'cacheSize'],
    [
      'retry.retries',
      () => createTokenManager({ grant: grant(), retry: { retries: -1 } }),
      'retry.retries',
    ],
    [
      'username',
      () => passwordGrant({ tokenUrl: TOKEN_URL, clientId: 'a', username: '', password: 'p' }),
      'username',
    ],
    ['request', () => customGrant({ tokenUrl: TOKEN_URL } as never), 'request'],
  ]
  it.each(cases)('%s', (_name, build, option) => {
    let error: unknown
    try {
      build()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option, code: 'invalid_config' })
    expect((error as Error).message).toContain(`"${option}"`)
  })
})
