import { inspect } from 'node:util'
import nock from 'nock'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { discover } from '../src/discovery'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  type FetchLike,
  refreshTokenGrant,
} from '../src/index'
import { selfSignedTlsClientAuth, tlsClientAuth } from '../src/mtls'
import { revocation } from '../src/revocation'
import { tokenExchange } from '../src/token-exchange'
import { ISSUER, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const form = (body: string) => Object.fromEntries(new URLSearchParams(body))
const KEY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----'
const MTLS = 'https://mtls.auth.example.test'
const AS_PATH = '/.well-known/oauth-authorization-server'

/** A fetch that records the URL and init of each call and sends it on (to nock). */
function recordingFetch() {
  const calls: { url: string; init: RequestInit & { dispatcher?: unknown } }[] = []
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, init })
    return globalThis.fetch(url, init)
  }
  return { fetch, calls, urls: () => calls.map((call) => call.url) }
}

/** Stands in for an undici Agent: the transport that holds the certificate and key. */
const dispatcher = { dispatch: () => true, connect: { cert: 'CERT', key: KEY } }

function catchError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe.each([
  ['tls_client_auth', tlsClientAuth],
  ['self_signed_tls_client_auth', selfSignedTlsClientAuth],
] as const)('%s (RFC 8705 §2)', (method, make) => {
  it('sends client_id in the body and no secret, assertion or Authorization header, through its own fetch', async () => {
    const seen = tokenEndpoint()
    const transport = recordingFetch()
    const manager = recordingFetch()
    const tokens = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'orders-service',
        scope: 'orders:read',
        clientAuth: make({ fetch: transport.fetch }),
      }),
      fetch: manager.fetch,
    })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })

    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(form(seen[0]?.body ?? '')).toEqual({
      grant_type: 'client_credentials',
      scope: 'orders:read',
      client_id: 'orders-service',
    })
    expect(transport.urls()).toEqual([TOKEN_URL])
    expect(manager.calls).toHaveLength(0)
  })

  it('is named by its registered method, which keeps its tokens apart in the cache key', () => {
    const clientAuth = make()
    expect(clientAuth.method).toBe(method)
    const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth })
    expect(grant.identity).toContain(method)
  })

  it('hands its dispatcher to fetch with each token request', async () => {
    tokenEndpoint()
    const transport = recordingFetch()
    const tokens = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: make({ dispatcher, fetch: transport.fetch }),
      }),
    })
    await tokens.getToken()
    expect(transport.calls).toHaveLength(1)
    expect(transport.calls[0]?.init.dispatcher).toBe(dispatcher)
    expect(transport.calls[0]?.init.method).toBe('POST')
    expect(transport.calls[0]?.init.redirect).toBe('manual')
  })

  it('never sends a clientSecret that is given besides', async () => {
    const seen = tokenEndpoint()
    const tokens = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientSecret: 'left-over-secret',
        clientAuth: make(),
      }),
    })
    await tokens.getToken()
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(form(seen[0]?.body ?? '')).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
    })
  })
})

describe('the transport of token requests', () => {
  it("gives the dispatcher to the global fetch when no fetch is given (Node's fetch takes it)", async () => {
    const global = vi.fn<FetchLike>(
      async () =>
        new Response(JSON.stringify({ access_token: 'at-g', token_type: 'Bearer' }), {
          headers: { 'content-type': 'application/json' },
        }),
    )
    const clientAuth = tlsClientAuth({ dispatcher })
    // Read per request, as the manager reads its own default.
    vi.stubGlobal('fetch', global)
    const tokens = createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth }),
      fetch: () => Promise.reject(new Error('the manager fetch carries no token request here')),
    })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-g' })
    expect(global).toHaveBeenCalledTimes(1)
    const [url, init] = global.mock.calls[0] ?? []
    expect(url).toBe(TOKEN_URL)
    expect((init as { dispatcher?: unknown }).dispatcher).toBe(dispatcher)
  })

  it("sends through the manager's fetch when the method has no transport of its own", async () => {
    tokenEndpoint()
    const manager = recordingFetch()
    const tokens = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: tlsClientAuth(),
      }),
      fetch: manager.fetch,
    })
    await tokens.getToken()
    expect(manager.urls()).toEqual([TOKEN_URL])
  })

  it('sends refresh and revocation requests through it too, with client_id and no secret', async () => {
    const seen = tokenEndpoint(() => [
      200,
      { access_token: 'at-2', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-2' },
    ])
    const revoked: Record<string, string>[] = []
    const revokedHeaders: (string | string[] | undefined)[] = []
    nock(ISSUER)
      .persist()
      .post('/oauth/revoke')
      .reply(function (_uri, body) {
        revoked.push(form(String(body)))
        revokedHeaders.push(this.req.headers.authorization)
        return [200, '']
      })
    const transport = recordingFetch()
    const tokens = createTokenManager({
      revocation: revocation(),
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        revocationUrl: `${ISSUER}/oauth/revoke`,
        clientId: 'svc',
        refreshToken: 'rt-1',
        clientAuth: tlsClientAuth({ fetch: transport.fetch }),
      }),
    })
    await tokens.getToken()
    await tokens.revoke()

    expect(form(seen[0]?.body ?? '')).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      client_id: 'svc',
    })
    expect(revoked).toContainEqual({
      token: 'rt-2',
      token_type_hint: 'refresh_token',
      client_id: 'svc',
    })
    expect(revokedHeaders.every((header) => header === undefined)).toBe(true)
    expect(transport.urls().filter((url) => url === `${ISSUER}/oauth/revoke`).length).toBe(
      revoked.length,
    )
    expect(transport.urls()).toContain(TOKEN_URL)
  })

  it('carries a token exchange too', async () => {
    const seen = tokenEndpoint()
    const transport = recordingFetch()
    const tokens = createTokenManager({
      grant: tokenExchange({
        tokenUrl: TOKEN_URL,
        clientId: 'bff',
        clientAuth: selfSignedTlsClientAuth({ fetch: transport.fetch }),
      }),
    })
    await tokens.getToken({ subjectToken: 'incoming-user-token' })
    expect(transport.urls()).toEqual([TOKEN_URL])
    expect(form(seen[0]?.body ?? '')).toMatchObject({ client_id: 'bff' })
    expect(form(seen[0]?.body ?? '').client_secret).toBeUndefined()
  })
})

describe('discovery with mutual TLS (RFC 8705 §5)', () => {
  const metadata = (extra: Record<string, unknown> = {}) => ({
    issuer: ISSUER,
    token_endpoint: `${ISSUER}/oauth/token`,
    revocation_endpoint: `${ISSUER}/oauth/revoke`,
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ],
    mtls_endpoint_aliases: {
      token_endpoint: `${MTLS}/oauth/token`,
      revocation_endpoint: `${MTLS}/oauth/revoke`,
      introspection_endpoint: `${MTLS}/oauth/introspect`,
    },
    ...extra,
  })
  const serve = (body: unknown) => nock(ISSUER).get(AS_PATH).reply(200, JSON.stringify(body))

  it('sends token and revocation requests of an mTLS method to mtls_endpoint_aliases, and reads the metadata with the manager fetch', async () => {
    serve(metadata())
    const seen = tokenEndpoint(undefined, { origin: MTLS })
    const revoked: Record<string, string>[] = []
    nock(MTLS)
      .post('/oauth/revoke')
      .reply((_uri, body) => {
        revoked.push(form(String(body)))
        return [200, '']
      })
    const transport = recordingFetch()
    const manager = recordingFetch()
    const tokens = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientAuth: tlsClientAuth({ fetch: transport.fetch }),
      }),
      fetch: manager.fetch,
    })
    await tokens.getToken()
    await tokens.revoke()

    expect(form(seen[0]?.body ?? '')).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
    })
    expect(revoked).toEqual([{ token: 'at-1', token_type_hint: 'access_token', client_id: 'svc' }])
    expect(transport.urls()).toEqual([`${MTLS}/oauth/token`, `${MTLS}/oauth/revoke`])
    expect(manager.urls()).toEqual([`${ISSUER}${AS_PATH}`])
  })

  it('keeps the plain endpoints for a client that authenticates with a secret', async () => {
    serve(metadata())
    const seen = tokenEndpoint()
    const tokens = createTokenManager({
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientSecret: 'secret',
        clientAuth: 'client_secret_basic',
      }),
    })
    await tokens.getToken()
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /)
  })

  it('uses the plain token_endpoint when the metadata has no alias for it', async () => {
    serve(metadata({ mtls_endpoint_aliases: { revocation_endpoint: `${MTLS}/oauth/revoke` } }))
    const seen = tokenEndpoint()
    const tokens = createTokenManager({
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientAuth: selfSignedTlsClientAuth(),
      }),
    })
    await tokens.getToken()
    expect(seen).toHaveLength(1)
  })

  it('"auto" with a secret picks client_secret_basic, never an mTLS method', async () => {
    serve(
      metadata({
        token_endpoint_auth_methods_supported: ['tls_client_auth', 'client_secret_basic'],
      }),
    )
    const seen = tokenEndpoint()
    const tokens = createTokenManager({
      grant: clientCredentials({ issuer: discover(ISSUER), clientId: 'svc', clientSecret: 's' }),
    })
    await tokens.getToken()
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /)
  })

  it('"auto" without a secret, at a server that lists only mTLS, is a ConfigError pointing at tlsClientAuth', async () => {
    serve(metadata({ token_endpoint_auth_methods_supported: ['tls_client_auth'] }))
    const tokens = createTokenManager({
      grant: clientCredentials({ issuer: discover(ISSUER), clientId: 'svc' }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('clientAuth')
    expect((error as ConfigError).message).toContain('tlsClientAuth({ dispatcher })')
    expect((error as ConfigError).message).toContain('@oauth-interceptors/core/mtls')
  })

  it('an mTLS method the server does not list is a ConfigError naming clientAuth', async () => {
    serve(metadata({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }))
    const transport = recordingFetch()
    const tokens = createTokenManager({
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientAuth: selfSignedTlsClientAuth({ fetch: transport.fetch }),
      }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('clientAuth')
    expect((error as ConfigError).message).toContain(
      '"self_signed_tls_client_auth" is not among the methods https://auth.example.test supports (client_secret_basic)',
    )
    expect(transport.calls).toHaveLength(0)
  })

  it('an alias that is not https is a ConfigError naming issuer', async () => {
    serve(metadata({ mtls_endpoint_aliases: { token_endpoint: 'http://mtls.example.test/token' } }))
    const tokens = createTokenManager({
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientAuth: tlsClientAuth(),
      }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('issuer')
    expect((error as ConfigError).message).toContain('mtls_endpoint_aliases.token_endpoint')
  })

  it('an mtls_endpoint_aliases that is not an object is a ConfigError naming issuer', async () => {
    serve(metadata({ mtls_endpoint_aliases: [`${MTLS}/oauth/token`] }))
    const tokens = createTokenManager({
      grant: clientCredentials({
        issuer: discover(ISSUER),
        clientId: 'svc',
        clientAuth: tlsClientAuth(),
      }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe('issuer')
    expect((error as ConfigError).message).toContain('not a JSON object')
  })
})

describe('bad input is a ConfigError naming the option and the fix', () => {
  it('a dispatcher that is not one names dispatcher', () => {
    const error = catchError(() =>
      tlsClientAuth({ dispatcher: { cert: 'CERT' } as unknown as typeof dispatcher }),
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.option).toBe('dispatcher')
    expect(error.message).toContain('new Agent({ connect: { cert, key } })')
  })

  it('a fetch that is not a function names fetch', () => {
    const error = catchError(() =>
      selfSignedTlsClientAuth({ fetch: 'https://proxy' as unknown as FetchLike }),
    )
    expect(error.option).toBe('fetch')
    expect(error.message).toContain('selfSignedTlsClientAuth({ fetch })')
  })

  it('a dispatcher where there is no global fetch names fetch', () => {
    vi.stubGlobal('fetch', undefined)
    const error = catchError(() => tlsClientAuth({ dispatcher }))
    expect(error.option).toBe('fetch')
    expect(error.message).toContain('with fetch from "undici"')
  })

  it('the method name as a string names clientAuth and points at core/mtls', () => {
    const error = catchError(() =>
      clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: 'tls_client_auth' as never,
      }),
    )
    expect(error.option).toBe('clientAuth')
    expect(error.message).toContain('tlsClientAuth() from "@oauth-interceptors/core/mtls"')
  })
})

describe('no key material in inspect output or JSON', () => {
  it('the method, its grant and its manager print the method name only', () => {
    const clientAuth = tlsClientAuth({ dispatcher })
    expect(inspect(clientAuth)).toBe('ClientCertificateAuth {"method":"tls_client_auth"}')
    expect(JSON.stringify(clientAuth)).toBe('{"method":"tls_client_auth"}')
    const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth })
    const manager = createTokenManager({ grant })
    for (const printed of [inspect(grant, { depth: 10 }), inspect(manager, { depth: 10 })]) {
      expect(printed).not.toContain('PRIVATE KEY')
      expect(printed).not.toContain('MIGHAgEA')
    }
  })
})
