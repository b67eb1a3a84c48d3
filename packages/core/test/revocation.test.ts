import nock from 'nock'
import { describe, expect, it } from 'vitest'
import {
  clientCredentials,
  createTokenManager,
  customGrant,
  MemoryTokenStore,
  passwordGrant,
  refreshTokenGrant,
  type TokenEvent,
} from '../src/index'
import { revocation } from '../src/revocation'
import { ISSUER, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const REVOCATION_URL = `${ISSUER}/oauth/revoke`
const SECRET = 'client-secret-9f2b7c41'
const form = (body: string) => [...new URLSearchParams(body)]

/** Token responses with numbered, long (redactable) tokens. */
function issuing({ refresh = false } = {}) {
  return (_request: unknown, index: number) =>
    [
      200,
      {
        access_token: `access-token-${index + 1}-5c7e9a`,
        token_type: 'Bearer',
        expires_in: 3600,
        ...(refresh && { refresh_token: `refresh-token-${index + 1}-3b8d1f` }),
      },
    ] as [number, unknown]
}

/** The revocation endpoint, answering 200 (RFC 7009 §2.2) unless told otherwise. */
function revocationEndpoint(reply?: Parameters<typeof tokenEndpoint>[0]) {
  return tokenEndpoint(reply ?? (() => [200, '']), { path: '/oauth/revoke' })
}

describe('manager.revoke() (RFC 7009)', () => {
  it('POSTs the access token form-encoded with token_type_hint and the Basic client authentication, then asks for a new token', async () => {
    const tokens = tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
        extraParams: { tenant: 'acme' },
      }),
      onEvent: (event) => events.push(event),
    })
    const first = await manager.getToken()

    const result = await manager.revoke()

    expect(result).toEqual({ accessTokens: 1, refreshTokens: 0 })
    expect(revocations).toHaveLength(1)
    expect(revocations[0]?.headers.authorization).toBe(`Basic ${btoa(`svc:${SECRET}`)}`)
    expect(revocations[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    // extraParams belong to token requests only.
    expect(form(revocations[0]?.body ?? '')).toEqual([
      ['token', first.accessToken],
      ['token_type_hint', 'access_token'],
    ])
    const revoked = events.filter((event) => event.type === 'token_revoked')
    expect(revoked).toEqual([
      { type: 'token_revoked', key: expect.any(String), tokens: ['access_token'] },
    ])
    expect(JSON.stringify(events)).not.toContain(first.accessToken)
    expect(manager.stats()).toMatchObject({ revoked: 1, revocationsFailed: 0 })

    // The revoked token is never handed out again.
    const next = await manager.getToken()
    expect(next.accessToken).not.toBe(first.accessToken)
    expect(tokens).toHaveLength(2)
  })

  it('revokes the refresh token first, then the access token, with client_secret_post', async () => {
    tokenEndpoint(issuing({ refresh: true }))
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'web',
        clientSecret: SECRET,
        clientAuth: 'client_secret_post',
        refreshToken: 'initial-refresh-token-77',
      }),
    })
    const token = await manager.getToken()
    expect(token.refreshToken).toBe('refresh-token-1-3b8d1f')

    // The rotated refresh token, the one the grant started from, then the access token.
    expect(await manager.revoke()).toEqual({ accessTokens: 1, refreshTokens: 2 })

    expect(revocations.map((request) => request.headers.authorization)).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(revocations.map((request) => form(request.body))).toEqual([
      [
        ['token', 'refresh-token-1-3b8d1f'],
        ['token_type_hint', 'refresh_token'],
        ['client_id', 'web'],
        ['client_secret', SECRET],
      ],
      [
        ['token', 'initial-refresh-token-77'],
        ['token_type_hint', 'refresh_token'],
        ['client_id', 'web'],
        ['client_secret', SECRET],
      ],
      [
        ['token', 'access-token-1-5c7e9a'],
        ['token_type_hint', 'access_token'],
        ['client_id', 'web'],
        ['client_secret', SECRET],
      ],
    ])
  })

  it('never sends a revoked refresh token again: a refreshTokenGrant whose token was not rotated stops with token_revoked', async () => {
    // No refresh_token in the response: the one the grant starts from stays current (RFC 6749 §6).
    const tokens = tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'web',
        clientSecret: SECRET,
        refreshToken: 'initial-refresh-token-77',
      }),
    })
    await manager.getToken()
    await manager.revoke()
    expect(new URLSearchParams(revocations[0]?.body).get('token')).toBe('initial-refresh-token-77')

    await expect(manager.getToken()).rejects.toMatchObject({
      name: 'TokenEndpointError',
      code: 'token_revoked',
      transient: false,
    })
    expect(tokens).toHaveLength(1)
  })

  it("revokes a refreshTokenGrant's starting refresh token with every key, also before any token request, and not with one key", async () => {
    const revocations = revocationEndpoint()
    const grant = refreshTokenGrant({
      tokenUrl: TOKEN_URL,
      revocationUrl: REVOCATION_URL,
      clientId: 'web',
      clientSecret: SECRET,
      refreshToken: 'initial-refresh-token-77',
    })
    const manager = createTokenManager({ revocation: revocation(), grant })
    expect(await manager.revoke({ scope: 'read' })).toEqual({ accessTokens: 0, refreshTokens: 0 })
    expect(revocations).toHaveLength(0)

    expect(await manager.revoke()).toEqual({ accessTokens: 0, refreshTokens: 1 })
    expect(form(revocations[0]?.body ?? '').slice(0, 2)).toEqual([
      ['token', 'initial-refresh-token-77'],
      ['token_type_hint', 'refresh_token'],
    ])
  })

  it('form-encodes the revocation request of a client_secret_json client (RFC 7009 needs a form)', async () => {
    tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
        clientAuth: 'client_secret_json',
      }),
    })
    await manager.getToken()
    await manager.revoke()
    expect(revocations[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(form(revocations[0]?.body ?? '')).toEqual([
      ['token', 'access-token-1-5c7e9a'],
      ['token_type_hint', 'access_token'],
      ['client_id', 'svc'],
      ['client_secret', SECRET],
    ])
  })

  it('revokes every key with no options, and only the matching key with { scope }', async () => {
    const tokens = tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
        scope: 'read',
      }),
    })
    const read = await manager.getToken()
    const write = await manager.getToken({ scope: 'write' })

    await manager.revoke({ scope: 'write' })
    expect(revocations.map((request) => new URLSearchParams(request.body).get('token'))).toEqual([
      write.accessToken,
    ])
    // The other key's token is still served from memory.
    expect((await manager.getToken()).accessToken).toBe(read.accessToken)
    expect(tokens).toHaveLength(2)

    await manager.getToken({ scope: 'write' })
    await manager.revoke()
    expect(revocations.slice(1).map((r) => new URLSearchParams(r.body).get('token'))).toEqual([
      read.accessToken,
      'access-token-3-5c7e9a',
    ])
    expect(tokens).toHaveLength(3)
    await manager.getToken()
    expect(tokens).toHaveLength(4)
  })

  it('revokes nothing, sending nothing, when no token is held', async () => {
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
      }),
    })
    expect(await manager.revoke()).toEqual({ accessTokens: 0, refreshTokens: 0 })
  })

  it('revocation() for a grant without a revocation endpoint is a ConfigError naming revocationUrl', () => {
    const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET })
    expect(() => createTokenManager({ grant, revocation: revocation() })).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        option: 'revocationUrl',
        message: expect.stringContaining('revocationUrl:'),
      }),
    )
  })

  it('without the revocation option, revoke() and close({ revoke }) reject with a ConfigError naming it, and send nothing', async () => {
    // No revocation endpoint is mocked: a revocation request would fail on the network instead.
    const tokens = tokenEndpoint(() => [200, { access_token: 'kept-at', expires_in: 3600 }])
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
      }),
    })
    await manager.getToken()
    const expected = {
      name: 'ConfigError',
      option: 'revocation',
      message: expect.stringContaining(
        "revocation: revocation() from '@oauth-interceptors/core/revocation'",
      ),
    }
    await expect(manager.revoke()).rejects.toMatchObject(expected)
    await expect(manager.getToken()).resolves.toMatchObject({ accessToken: 'kept-at' })
    // A shutdown still shuts down, then says why it did not revoke.
    await expect(manager.close({ revoke: true })).rejects.toMatchObject({
      ...expected,
      message: expect.stringContaining('close({ revoke: true })'),
    })
    await expect(manager.getToken()).rejects.toMatchObject({ code: 'manager_closed' })
    expect(tokens).toHaveLength(1)
  })

  it('a revocation option that revocation() did not make is a ConfigError naming it', () => {
    const grant = clientCredentials({
      tokenUrl: TOKEN_URL,
      revocationUrl: REVOCATION_URL,
      clientId: 'svc',
      clientSecret: SECRET,
    })
    expect(() =>
      createTokenManager({ grant, revocation: true as unknown as ReturnType<typeof revocation> }),
    ).toThrow(expect.objectContaining({ name: 'ConfigError', option: 'revocation' }))
  })

  it('checks revocationUrl like tokenUrl: https, http only on loopback or with allowInsecureHttp', () => {
    const options = { tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET }
    expect(() =>
      clientCredentials({ ...options, revocationUrl: 'http://auth.example.test/revoke' }),
    ).toThrow(expect.objectContaining({ name: 'ConfigError', option: 'revocationUrl' }))
    expect(() => clientCredentials({ ...options, revocationUrl: 'revoke' })).toThrow(
      expect.objectContaining({ option: 'revocationUrl' }),
    )
    expect(
      clientCredentials({ ...options, revocationUrl: 'http://127.0.0.1:8080/revoke' })
        .revocationUrl,
    ).toBe('http://127.0.0.1:8080/revoke')
    expect(
      clientCredentials({
        ...options,
        revocationUrl: 'http://auth.internal/revoke',
        allowInsecureHttp: true,
      }).revocationUrl,
    ).toBe('http://auth.internal/revoke')
    const login = { ...options, username: 'ada', password: 'password-123' }
    expect(passwordGrant({ ...login, revocationUrl: REVOCATION_URL }).revocationUrl).toBe(
      REVOCATION_URL,
    )
    expect(() =>
      customGrant({
        tokenUrl: TOKEN_URL,
        request: () => ({}),
        revocationUrl: 'ftp://auth.example.test/revoke',
      }),
    ).toThrow(expect.objectContaining({ option: 'revocationUrl' }))
  })

  it('counts the revocation endpoint among the token endpoints, so adapters never send it a token', () => {
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
      }),
    })
    expect(manager.isTokenEndpoint(REVOCATION_URL)).toBe(true)
  })
})

describe('revocation failures', () => {
  const grant = () =>
    refreshTokenGrant({
      tokenUrl: TOKEN_URL,
      revocationUrl: REVOCATION_URL,
      clientId: 'web',
      clientSecret: SECRET,
      refreshToken: 'initial-refresh-token-77',
    })

  it('unsupported_token_type: a RevocationError without the token or secret; the tokens are dropped all the same', async () => {
    const tokens = tokenEndpoint(issuing({ refresh: true }))
    revocationEndpoint((request) => [
      400,
      {
        error: 'unsupported_token_type',
        error_description: `cannot revoke ${new URLSearchParams(request.body).get('token')} for ${SECRET}`,
      },
    ])
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      revocation: revocation(),
      grant: grant(),
      onEvent: (e) => events.push(e),
    })
    const token = await manager.getToken()

    const error = await manager.revoke().catch((thrown: unknown) => thrown)

    expect(error).toMatchObject({
      name: 'RevocationError',
      code: 'unsupported_token_type',
      status: 400,
      transient: false,
      tokenTypeHint: 'refresh_token',
      message: expect.stringContaining(
        'Revoking the refresh token at https://auth.example.test failed: the revocation endpoint answered 400 unsupported_token_type: cannot revoke [redacted]',
      ),
    })
    for (const text of [String(error), JSON.stringify(error), JSON.stringify(events)]) {
      expect(text).not.toContain(token.accessToken)
      expect(text).not.toContain(token.refreshToken)
      expect(text).not.toContain(SECRET)
    }
    expect(events.filter((event) => event.type === 'revocation_failed')).toHaveLength(3)
    expect(manager.stats()).toMatchObject({ revoked: 0, revocationsFailed: 3 })
    await manager.getToken()
    expect(tokens).toHaveLength(2)
    // A fresh start from the grant's refresh token (not revoked), not the dropped rotated one.
    expect(new URLSearchParams(tokens[1]?.body).get('refresh_token')).toBe(
      'initial-refresh-token-77',
    )
  })

  const client = () =>
    clientCredentials({
      tokenUrl: TOKEN_URL,
      revocationUrl: REVOCATION_URL,
      clientId: 'svc',
      clientSecret: SECRET,
    })

  it('a 503 is a transient http_error, retried like a token request', async () => {
    tokenEndpoint(issuing())
    const revocations = revocationEndpoint((_request, index) =>
      index === 0 ? [503, '', { 'retry-after': '0' }] : [200, ''],
    )
    const manager = createTokenManager({
      revocation: revocation(),
      grant: client(),
      retry: { retries: 1, minDelay: 1, maxDelay: 1 },
      random: () => 0,
    })
    await manager.getToken()
    expect(await manager.revoke()).toEqual({ accessTokens: 1, refreshTokens: 0 })
    expect(revocations).toHaveLength(2)
  })

  it('a 503 after the retries rejects with status and transient set', async () => {
    tokenEndpoint(issuing())
    revocationEndpoint(() => [503, 'Service Unavailable', { 'content-type': 'text/plain' }])
    const manager = createTokenManager({ revocation: revocation(), grant: client(), retry: false })
    await manager.getToken()
    await expect(manager.revoke()).rejects.toMatchObject({
      name: 'RevocationError',
      code: 'http_error',
      status: 503,
      transient: true,
      message: expect.stringContaining('answered HTTP 503'),
    })
  })

  it('a network error names the origin only and redacts what the platform quoted', async () => {
    const tokens = tokenEndpoint(issuing())
    const manager = createTokenManager({ revocation: revocation(), grant: client(), retry: false })
    const token = await manager.getToken()
    nock(ISSUER)
      .post('/oauth/revoke')
      .replyWithError(`socket hang up while sending ${token.accessToken} with ${SECRET}`)

    const error = await manager.revoke().catch((thrown: unknown) => thrown)

    expect(error).toMatchObject({
      name: 'RevocationError',
      code: 'network_error',
      transient: true,
      message: expect.stringMatching(
        /^Revoking the access token at https:\/\/auth\.example\.test failed on the network: socket hang up while sending \[redacted\] with \[redacted\]/,
      ),
    })
    expect(String((error as Error).cause)).not.toContain(token.accessToken)
    await manager.getToken()
    expect(tokens).toHaveLength(2)
  })
})

describe('revocation with a shared store', () => {
  it('revokes and deletes the shared token even when this manager never fetched it', async () => {
    tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const store = new MemoryTokenStore()
    const grant = clientCredentials({
      tokenUrl: TOKEN_URL,
      revocationUrl: REVOCATION_URL,
      clientId: 'svc',
      clientSecret: SECRET,
    })
    const keys: string[] = []
    const token = await createTokenManager({
      revocation: revocation(),
      grant,
      store,
      onEvent: (event) => keys.push(event.key),
    }).getToken()
    expect(await store.get(keys[0] as string)).toMatchObject({ accessToken: token.accessToken })

    await createTokenManager({ revocation: revocation(), grant, store }).revoke()

    expect(revocations.map((r) => new URLSearchParams(r.body).get('token'))).toEqual([
      token.accessToken,
    ])
    expect(await store.get(keys[0] as string)).toBeUndefined()
  })
})

describe('manager.close()', () => {
  it('with { revoke: true } revokes the tokens, then getToken() rejects with manager_closed', async () => {
    const tokens = tokenEndpoint(issuing({ refresh: true }))
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'web',
        clientSecret: SECRET,
        refreshToken: 'initial-refresh-token-77',
      }),
    })
    await manager.getToken()

    await manager.close({ revoke: true })

    expect(revocations.map((r) => new URLSearchParams(r.body).get('token_type_hint'))).toEqual([
      'refresh_token',
      'refresh_token',
      'access_token',
    ])
    await expect(manager.getToken()).rejects.toMatchObject({
      name: 'OAuthInterceptorsError',
      code: 'manager_closed',
      message: expect.stringContaining('closed'),
    })
    expect(tokens).toHaveLength(1)
  })

  it('waits for a token request under way, then revokes the token it brought', async () => {
    tokenEndpoint(issuing(), { delay: 50 })
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: REVOCATION_URL,
        clientId: 'svc',
        clientSecret: SECRET,
      }),
    })
    const pending = manager.getToken()

    await manager.close({ revoke: true })

    expect(revocations.map((r) => new URLSearchParams(r.body).get('token'))).toEqual([
      (await pending).accessToken,
    ])
  })

  it('without revoke sends nothing and still refuses getToken()', async () => {
    tokenEndpoint(issuing())
    const manager = createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET }),
    })
    await manager.getToken()
    await manager.close()
    await expect(manager.getToken()).rejects.toMatchObject({ code: 'manager_closed' })
  })
})

describe('customGrant revocation', () => {
  it('sends token and hint as a form to revocationUrl, with what revoke() adds', async () => {
    tokenEndpoint(issuing())
    const revocations = revocationEndpoint()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: customGrant({
        tokenUrl: TOKEN_URL,
        request: () => ({ form: { grant_type: 'client_credentials' } }),
        revocationUrl: REVOCATION_URL,
        revoke: (token, hint) => ({
          headers: { 'x-api-key': 'api-key-4d1c8e2a' },
          form: { token, token_type_hint: hint },
        }),
      }),
    })
    await manager.getToken()
    await manager.revoke()
    expect(revocations[0]?.headers['x-api-key']).toBe('api-key-4d1c8e2a')
    expect(form(revocations[0]?.body ?? '')).toEqual([
      ['token', 'access-token-1-5c7e9a'],
      ['token_type_hint', 'access_token'],
    ])
  })
})

describe('a revoke() builder that throws', () => {
  it('is a RevocationError with code custom_grant_error whose cause has the token redacted', async () => {
    tokenEndpoint(issuing())
    const manager = createTokenManager({
      revocation: revocation(),
      grant: customGrant({
        tokenUrl: TOKEN_URL,
        request: () => ({ form: { grant_type: 'client_credentials' } }),
        revocationUrl: REVOCATION_URL,
        revoke: (token) => {
          throw new Error(`cannot sign a revocation of ${token}`)
        },
      }),
    })
    const { accessToken } = await manager.getToken()

    const error = await manager.revoke().catch((thrown: unknown) => thrown)

    expect(error).toMatchObject({
      name: 'RevocationError',
      code: 'custom_grant_error',
      tokenTypeHint: 'access_token',
    })
    // RevocationError → the custom grant's error → what revoke() threw.
    const thrown = ((error as Error).cause as Error).cause
    expect(String(thrown)).toBe('Error: cannot sign a revocation of [redacted]')
    expect(JSON.stringify(error)).not.toContain(accessToken)
  })
})
