import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { discover } from '../src/discovery'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  customGrant,
  passwordGrant,
  refreshTokenGrant,
  TokenEndpointError,
} from '../src/index'
import { revocation } from '../src/revocation'
import { ISSUER, manualClock, tokenEndpoint, useNock } from './helpers'

useNock()

const SECRET = 's3cret-value'
const AS_PATH = '/.well-known/oauth-authorization-server'
const OIDC_PATH = '/.well-known/openid-configuration'

function metadata(extra: Record<string, unknown> = {}) {
  return {
    issuer: ISSUER,
    token_endpoint: `${ISSUER}/oauth/token`,
    revocation_endpoint: `${ISSUER}/oauth/revoke`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    ...extra,
  }
}

/** Serves the RFC 8414 metadata; returns how many requests it answered. */
function metadataEndpoint(
  body: unknown = metadata(),
  { path = AS_PATH, status = 200, delay = 0 } = {},
): { count: number } {
  const seen = { count: 0 }
  nock(ISSUER)
    .persist()
    .get(path)
    .delay(delay)
    .reply(() => {
      seen.count++
      return [status, typeof body === 'string' ? body : JSON.stringify(body)]
    })
  return seen
}

const grant = (options: Partial<Parameters<typeof clientCredentials>[0]> = {}) =>
  clientCredentials({ issuer: discover(ISSUER), clientId: 'svc', clientSecret: SECRET, ...options })

describe('discovery: where the metadata is read', () => {
  it('reads /.well-known/oauth-authorization-server and sends the token request to its token_endpoint', async () => {
    const meta = metadataEndpoint(metadata({ token_endpoint: `${ISSUER}/elsewhere/token` }))
    const seen = tokenEndpoint(undefined, { path: '/elsewhere/token' })
    const tokens = createTokenManager({ grant: grant() })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(meta.count).toBe(1)
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /)
  })

  it('inserts the well-known path before an issuer path (RFC 8414 §3.1)', async () => {
    const issuer = `${ISSUER}/tenant-a`
    nock(ISSUER)
      .get(`${AS_PATH}/tenant-a`)
      .reply(200, metadata({ issuer, token_endpoint: `${issuer}/token` }))
    const seen = tokenEndpoint(undefined, { path: '/tenant-a/token' })
    const tokens = createTokenManager({
      grant: clientCredentials({ issuer: discover(issuer), clientId: 'svc', clientSecret: SECRET }),
    })
    await tokens.getToken()
    expect(seen).toHaveLength(1)
  })

  it('falls back to /.well-known/openid-configuration appended to the issuer path', async () => {
    const issuer = `${ISSUER}/realms/main`
    nock(ISSUER).get(`${AS_PATH}/realms/main`).reply(404, 'not found')
    nock(ISSUER)
      .get(`/realms/main${OIDC_PATH}`)
      .reply(200, metadata({ issuer, token_endpoint: `${issuer}/token` }))
    const seen = tokenEndpoint(undefined, { path: '/realms/main/token' })
    const tokens = createTokenManager({
      grant: clientCredentials({ issuer: discover(issuer), clientId: 'svc', clientSecret: SECRET }),
    })
    await tokens.getToken()
    expect(seen).toHaveLength(1)
  })

  it('fetches the metadata once for 100 concurrent cold getToken() calls, and keeps it', async () => {
    const meta = metadataEndpoint(metadata(), { delay: 20 })
    const seen = tokenEndpoint((_r, i) => [200, { access_token: `at-${i}`, expires_in: 1 }])
    const clock = manualClock()
    const tokens = createTokenManager({ grant: grant(), now: clock.now })
    await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()))
    expect(meta.count).toBe(1)
    expect(seen).toHaveLength(1)
    clock.advance(10_000)
    await tokens.getToken()
    expect(seen).toHaveLength(2)
    expect(meta.count).toBe(1)
  })

  it('counts the discovered token endpoint as a token endpoint for the adapters', async () => {
    metadataEndpoint(metadata({ token_endpoint: `${ISSUER}/elsewhere/token` }))
    tokenEndpoint(undefined, { path: '/elsewhere/token' })
    const tokens = createTokenManager({ grant: grant() })
    await tokens.getToken()
    expect(tokens.isTokenEndpoint(`${ISSUER}/elsewhere/token`)).toBe(true)
    expect(tokens.isTokenEndpoint(`${ISSUER}/api/orders`)).toBe(false)
  })

  it('works on every grant', async () => {
    metadataEndpoint()
    const seen = tokenEndpoint()
    const issuer = discover(ISSUER)
    const grants = [
      passwordGrant({
        issuer,
        clientId: 'app',
        clientSecret: SECRET,
        username: 'ada',
        password: 'pw-value',
      }),
      refreshTokenGrant({
        issuer,
        clientId: 'app',
        clientSecret: SECRET,
        refreshToken: 'rt-start',
      }),
      customGrant({ issuer, request: () => ({ form: { grant_type: 'custom' } }), identity: [] }),
    ]
    for (const g of grants) await createTokenManager({ grant: g }).getToken()
    expect(seen.map((r) => new URLSearchParams(r.body).get('grant_type'))).toEqual([
      'password',
      'refresh_token',
      'custom',
    ])
  })
})

describe('discovery: failures', () => {
  it('re-fetches after a failure only once the backoff has passed', async () => {
    const clock = manualClock()
    let count = 0
    nock(ISSUER)
      .persist()
      .get(AS_PATH)
      .reply(() => {
        count++
        return count === 1 ? [503, 'down'] : [200, JSON.stringify(metadata())]
      })
    nock(ISSUER).persist().get(OIDC_PATH).reply(503, 'down')
    tokenEndpoint()
    const tokens = createTokenManager({ grant: grant(), now: clock.now, retry: false })
    const first = await tokens.getToken().catch((error: unknown) => error)
    expect(first).toBeInstanceOf(TokenEndpointError)
    expect(first).toMatchObject({ code: 'http_error', status: 503 })
    expect(String((first as Error).message)).toContain(ISSUER)
    expect(count).toBe(1)
    // Within the backoff: the same error, no request.
    clock.advance(500)
    await expect(tokens.getToken()).rejects.toBe(first)
    expect(count).toBe(1)
    clock.advance(600)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(count).toBe(2)
  })

  it('names the origin on a network failure, as a network_error', async () => {
    nock(ISSUER).get(AS_PATH).replyWithError('connect ECONNREFUSED')
    const error = await createTokenManager({ grant: grant() })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error).toMatchObject({ code: 'network_error' })
    expect((error as Error).message).toContain(`Discovery of ${ISSUER}`)
  })

  it('refuses a body that is not JSON', async () => {
    metadataEndpoint('<html>login</html>')
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      name: 'TokenEndpointError',
      code: 'invalid_response',
    })
  })

  it('refuses metadata naming another issuer (RFC 8414 §3.3)', async () => {
    metadataEndpoint(metadata({ issuer: 'https://evil.example.test' }))
    const error = await createTokenManager({ grant: grant() })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'issuer' })
    expect((error as Error).message).toContain('https://evil.example.test')
    expect((error as Error).message).not.toContain(SECRET)
  })

  it('refuses a trailing-slash difference: the match is exact', async () => {
    metadataEndpoint(metadata({ issuer: `${ISSUER}/` }))
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      option: 'issuer',
    })
  })

  it('refuses metadata without a token_endpoint', async () => {
    metadataEndpoint(metadata({ token_endpoint: undefined }))
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toThrow(
      /has no token_endpoint.*tokenUrl/,
    )
  })

  it('refuses a plain-http token_endpoint off loopback', async () => {
    metadataEndpoint(metadata({ token_endpoint: 'http://auth.example.test/oauth/token' }))
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toMatchObject({
      name: 'ConfigError',
      option: 'issuer',
    })
  })
})

describe('discovery: options', () => {
  it('wants exactly one of tokenUrl and issuer', () => {
    expect(() =>
      clientCredentials({
        tokenUrl: `${ISSUER}/oauth/token`,
        issuer: discover(ISSUER),
        clientId: 'svc',
      }),
    ).toThrow(/"issuer".*both tokenUrl and issuer/)
    expect(() => clientCredentials({ clientId: 'svc' })).toThrow(/"tokenUrl"/)
    expect(() => discover('http://auth.example.test')).toThrow(ConfigError)
    expect(() => discover(`${ISSUER}?tenant=a`)).toThrow(/query or fragment/)
  })

  it('refuses clientAuth "auto" without an issuer', () => {
    expect(() =>
      clientCredentials({ tokenUrl: `${ISSUER}/oauth/token`, clientId: 'svc', clientAuth: 'auto' }),
    ).toThrow(/"clientAuth".*needs issuer/)
  })

  it('"auto" chooses client_secret_post when the server lists only that', async () => {
    metadataEndpoint(metadata({ token_endpoint_auth_methods_supported: ['client_secret_post'] }))
    const seen = tokenEndpoint()
    await createTokenManager({ grant: grant() }).getToken()
    const body = new URLSearchParams(seen[0]?.body)
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(body.get('client_secret')).toBe(SECRET)
  })

  it('"auto" sends only client_id for a client without a secret', async () => {
    metadataEndpoint(metadata({ token_endpoint_auth_methods_supported: ['none'] }))
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: clientCredentials({ issuer: discover(ISSUER), clientId: 'public-app' }),
    }).getToken()
    expect(seen[0]?.body).toBe('grant_type=client_credentials&client_id=public-app')
    expect(seen[0]?.headers.authorization).toBeUndefined()
  })

  it('refuses a method the server does not list, naming clientAuth and the list', async () => {
    metadataEndpoint(metadata({ token_endpoint_auth_methods_supported: ['private_key_jwt'] }))
    const error = await createTokenManager({ grant: grant({ clientAuth: 'client_secret_post' }) })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'clientAuth' })
    expect((error as Error).message).toContain('"client_secret_post" is not among')
    expect((error as Error).message).toContain('private_key_jwt')
    expect((error as Error).message).not.toContain(SECRET)
  })

  it('"auto" with a secret fails clearly when the server takes only JWTs', async () => {
    metadataEndpoint(metadata({ token_endpoint_auth_methods_supported: ['private_key_jwt'] }))
    await expect(createTokenManager({ grant: grant() }).getToken()).rejects.toThrow(
      /"clientAuth".*"auto".*private_key_jwt/,
    )
  })
})

describe('discovery: revocation', () => {
  it("revoke() uses the metadata's revocation_endpoint", async () => {
    metadataEndpoint()
    tokenEndpoint()
    const revoked: string[] = []
    nock(ISSUER)
      .post('/oauth/revoke')
      .reply(200, (_uri, body) => {
        revoked.push(String(body))
        return ''
      })
    const tokens = createTokenManager({ revocation: revocation(), grant: grant() })
    await tokens.getToken()
    await expect(tokens.revoke()).resolves.toEqual({ accessTokens: 1, refreshTokens: 0 })
    expect(revoked).toEqual(['token=at-1&token_type_hint=access_token'])
    expect(tokens.isTokenEndpoint(`${ISSUER}/oauth/revoke`)).toBe(true)
  })

  it('an explicit revocationUrl wins over the metadata', async () => {
    metadataEndpoint()
    tokenEndpoint()
    nock(ISSUER).post('/custom/revoke').reply(200, '')
    const tokens = createTokenManager({
      revocation: revocation(),
      grant: grant({ revocationUrl: `${ISSUER}/custom/revoke` }),
    })
    await tokens.getToken()
    await expect(tokens.revoke()).resolves.toMatchObject({ accessTokens: 1 })
  })

  it('revoke() names revocationUrl when the metadata has no revocation_endpoint', async () => {
    metadataEndpoint(metadata({ revocation_endpoint: undefined }))
    const sent = tokenEndpoint()
    const events: string[] = []
    const tokens = createTokenManager({
      revocation: revocation(),
      grant: grant(),
      onEvent: (event) => events.push(event.type),
    })
    const first = await tokens.getToken()
    const error = await tokens.revoke().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'revocationUrl' })
    expect((error as Error).message).toContain('has no revocation_endpoint')
    // A configuration problem, not failed revocations: no revocation_failed events, no counts;
    // the token is dropped all the same, so the next getToken() asks for a new one.
    expect(events).not.toContain('revocation_failed')
    expect(tokens.stats()).toMatchObject({ revoked: 0, revocationsFailed: 0 })
    expect(first.accessToken).toBe('at-1')
    await tokens.getToken()
    expect(sent).toHaveLength(2)
  })
})
