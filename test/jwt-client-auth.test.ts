import { generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import {
  type ClientOptions,
  clientCredentials,
  createTokenManager,
  isOAuthError,
} from '@oauth-interceptors/core'
import { clientSecretJwt, privateKeyJwt } from '@oauth-interceptors/core/jwt'
import {
  type AuthorizationServer,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { adapters } from './support/adapters'

// RFC 7523 client assertions against oidc-provider, which checks the signature with the
// client's registered public key (or its secret), the claims, and that no jti is used twice.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicJwk = (key: typeof rsa.publicKey, kid: string): JsonWebKey => ({
  ...key.export({ format: 'jwk' }),
  kid,
  use: 'sig',
})
const SECRET = 'jwt-client-secret-0123456789abcdef-0123456789'

const CLIENTS = {
  rs256: 'service-private-key-rs256',
  es256: 'service-private-key-es256',
  hs256: 'service-client-secret-jwt',
}

let as: AuthorizationServer
let api: ResourceServer

beforeAll(async () => {
  as = await startAuthorizationServer({
    accessTokenTTL: 30,
    extraClients: [
      {
        client_id: CLIENTS.rs256,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [publicJwk(rsa.publicKey, 'rsa-1')] },
      },
      {
        client_id: CLIENTS.es256,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk(ec.publicKey, 'ec-1')] },
      },
      {
        client_id: CLIENTS.hs256,
        client_secret: SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      },
    ],
  })
  api = await startResourceServer(as, { resource: RESOURCES.jwt, record: true })
})

afterAll(async () => {
  await api?.close()
  await as?.close()
})

function manager(options: Omit<ClientOptions, 'tokenUrl'>) {
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: as.tokenUrl, resource: RESOURCES.jwt, ...options }),
  })
}

/** Token requests the server received from now on. */
function tokenRequestsFrom() {
  const start = as.tokenRequests.length
  return () => as.tokenRequests.slice(start)
}

const cases = [
  {
    name: 'private_key_jwt, RS256 from a PKCS#8 PEM',
    clientId: CLIENTS.rs256,
    clientAuth: () =>
      privateKeyJwt({
        key: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        kid: 'rsa-1',
      }),
  },
  {
    name: 'private_key_jwt, ES256 from a JWK',
    clientId: CLIENTS.es256,
    clientAuth: () =>
      privateKeyJwt({ key: { ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec-1' } }),
  },
  {
    name: 'client_secret_jwt, HS256',
    clientId: CLIENTS.hs256,
    clientSecret: SECRET,
    clientAuth: () => clientSecretJwt(),
  },
]

describe.each(cases)('$name against oidc-provider', ({ clientId, clientSecret, clientAuth }) => {
  it('gets a real token with client credentials; a new token request carries a new assertion', async () => {
    const tokens = manager({ clientId, clientSecret, clientAuth: clientAuth() })
    const sent = tokenRequestsFrom()

    const first = await tokens.getToken()
    tokens.invalidate(first.accessToken)
    // oidc-provider refuses a jti it has seen: the second request succeeds only with a new one.
    const second = await tokens.getToken()

    expect(second.accessToken).not.toBe(first.accessToken)
    expect(sent()).toEqual([
      expect.objectContaining({
        clientId,
        grantType: 'client_credentials',
        authorization: 'none',
        status: 200,
      }),
      expect.objectContaining({ clientId, status: 200 }),
    ])
  })

  it.each(adapters)('the token works through $name', async (adapter) => {
    const client = adapter.create(
      { manager: manager({ clientId, clientSecret, clientAuth: clientAuth() }) },
      api.url,
    )
    const reply = await client.get('/items')
    expect(reply).toMatchObject({ status: 200, body: { client_id: clientId } })
  })
})

describe('JWT client authentication failures oidc-provider reports', () => {
  it('an assertion signed with a key the client did not register is invalid_client', async () => {
    const tokens = manager({
      clientId: CLIENTS.rs256,
      clientAuth: privateKeyJwt({ key: other.privateKey.export({ format: 'jwk' }), kid: 'rsa-1' }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(isOAuthError(error)).toBe(true)
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('an audience the server does not accept is invalid_client', async () => {
    const tokens = manager({
      clientId: CLIENTS.es256,
      clientAuth: privateKeyJwt({
        key: ec.privateKey.export({ format: 'jwk' }),
        assertionAudience: 'https://elsewhere.example',
      }),
    })
    const error = await tokens.getToken().catch((caught: unknown) => caught)
    expect(error).toMatchObject({ error: 'invalid_client' })
  })

  it('the issuer as assertionAudience is accepted', async () => {
    const tokens = manager({
      clientId: CLIENTS.es256,
      clientAuth: privateKeyJwt({
        key: ec.privateKey.export({ format: 'jwk' }),
        assertionAudience: as.issuer,
      }),
    })
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: expect.any(String) })
  })
})
