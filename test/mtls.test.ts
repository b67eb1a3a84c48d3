import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  type FetchLike,
  OAuthError,
  type TokenManager,
} from '@oauth-interceptors/core'
import { discover } from '@oauth-interceptors/core/discovery'
import { selfSignedTlsClientAuth, tlsClientAuth } from '@oauth-interceptors/core/mtls'
import { revocation } from '@oauth-interceptors/core/revocation'
import {
  type AuthorizationServer,
  DEMO_CLIENTS,
  listen,
  RESOURCES,
  type RunningServer,
  startAuthorizationServer,
} from '@oauth-interceptors/demo-servers'
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type ClientRow, type ClientTls, rows } from './support/conformance-clients'
import { type Credentials, createTestCa, selfSignedClient, type TestCa } from './support/test-ca'

// Mutual TLS (RFC 8705) against oidc-provider behind real TLS listeners on 127.0.0.1, with a CA
// made in this test: the client authenticates with its certificate (tls_client_auth, and
// self_signed_tls_client_auth), discovery sends it to mtls_endpoint_aliases, and the tokens it
// gets are bound to the certificate (cnf.x5t#S256), which an API checks against the certificate
// each client presents.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

const PKI_CLIENT = 'orders-service'
const SELF_SIGNED_CLIENT = 'self-signed-service'

/** One request as the API judged it. */
interface Judged {
  path: string
  status: number
  /** Why it was refused, when it was. */
  error?: string
  /** The `x5t#S256` of the certificate the client presented, if it presented one. */
  presented: string | undefined
}

/**
 * A resource server on https that asks for a client certificate and accepts only JWT access
 * tokens of the authorization server bound to the certificate presented: the token's
 * `cnf.x5t#S256` must be the SHA-256 thumbprint of that certificate (RFC 8705 §3.1).
 */
interface BoundApi {
  readonly url: string
  readonly judged: Judged[]
  close(): Promise<void>
}

async function startBoundApi(
  as: AuthorizationServer,
  tls: { cert: string; key: string; ca: string },
  trusting: FetchLike,
): Promise<BoundApi> {
  const jwks = createLocalJWKSet(
    (await (await trusting(as.jwksUrl, { method: 'GET' })).json()) as JSONWebKeySet,
  )
  const judged: Judged[] = []
  const judge = async (request: IncomingMessage, response: ServerResponse): Promise<Judged> => {
    const certificate = (request.socket as TLSSocket).getPeerX509Certificate()
    const presented =
      certificate && createHash('sha256').update(certificate.raw).digest('base64url')
    const base = { path: new URL(request.url ?? '/', 'https://127.0.0.1').pathname, presented }
    const refuse = (error: string) => {
      response.writeHead(401, { 'www-authenticate': `Bearer error="${error}"` }).end()
      return { ...base, status: 401, error }
    }
    const [scheme, token] = (request.headers.authorization ?? '').split(' ')
    if (scheme !== 'Bearer' || !token) return refuse('invalid_request')
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: as.issuer,
        audience: RESOURCES.jwt,
      })
      const bound = (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256']
      if (bound === undefined || bound !== presented) return refuse('invalid_token')
    } catch {
      return refuse('invalid_token')
    }
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ ok: true }))
    return { ...base, status: 200 }
  }
  const running: RunningServer = await listen(
    (request, response) => {
      request.resume()
      request.on('end', () => {
        judge(request, response).then(
          (result) => judged.push(result),
          () => response.writeHead(500).end(),
        )
      })
    },
    0,
    { ...tls, requestCert: true, rejectUnauthorized: false },
  )
  return { url: running.url, judged, close: () => running.close() }
}

let ca: TestCa
let pki: Credentials
let other: Credentials
let selfSigned: Credentials
let as: AuthorizationServer
let api: BoundApi
/** Trusts the test CA and presents no certificate: what the managers read the metadata with. */
let trustingAgent: Agent
let trusting: FetchLike
const agents: Agent[] = []

/** An undici Agent that presents `credentials` and trusts the test CA. */
function agentWith(credentials: Credentials): Agent {
  const agent = new Agent({
    connect: { cert: credentials.cert, key: credentials.key, ca: ca.cert },
  })
  agents.push(agent)
  return agent
}

function tlsOf(credentials: Credentials): ClientTls {
  return { cert: credentials.cert, key: credentials.key, ca: ca.cert }
}

beforeAll(async () => {
  ca = await createTestCa()
  const server = await ca.server()
  pki = await ca.client(PKI_CLIENT)
  other = await ca.client('other-service')
  selfSigned = await selfSignedClient(SELF_SIGNED_CLIENT)
  trustingAgent = new Agent({ connect: { ca: ca.cert } })
  // undici's Response is the platform's in all but its type.
  trusting = (url, init) =>
    undiciFetch(url, {
      ...init,
      dispatcher: trustingAgent,
    } as never) as unknown as Promise<Response>
  as = await startAuthorizationServer({
    accessTokenTTL: 300,
    mtls: { cert: server.cert, key: server.key, ca: ca.cert },
    extraClients: [
      {
        client_id: PKI_CLIENT,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: `CN=${PKI_CLIENT}`,
        tls_client_certificate_bound_access_tokens: true,
      },
      {
        client_id: SELF_SIGNED_CLIENT,
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [{ ...selfSigned.publicJwk, x5c: [selfSigned.der] }] },
        tls_client_certificate_bound_access_tokens: true,
      },
    ],
  })
  api = await startBoundApi(as, { cert: server.cert, key: server.key, ca: ca.cert }, trusting)
})

afterAll(async () => {
  await api?.close()
  await as?.close()
  await Promise.all([trustingAgent?.close(), ...agents.map((agent) => agent.close())])
})

/** A manager of the PKI client: discovery, tls_client_auth through an Agent with its certificate. */
function pkiManager(credentials: Credentials = pki): TokenManager {
  return createTokenManager({
    grant: clientCredentials({
      issuer: discover(as.issuer),
      clientId: PKI_CLIENT,
      resource: RESOURCES.jwt,
      clientAuth: tlsClientAuth({ dispatcher: agentWith(credentials) }),
    }),
    fetch: trusting,
  })
}

/** What the authorization server and the API saw from now on. */
function watch() {
  const tokens = as.tokenRequests.length
  const judged = api.judged.length
  return {
    tokenRequests: () => as.tokenRequests.slice(tokens),
    judged: () => api.judged.slice(judged),
  }
}

describe('mTLS client authentication against oidc-provider (RFC 8705 §2)', () => {
  it('tls_client_auth: discovery sends the token request to mtls_endpoint_aliases with the certificate, and the token is bound to it', async () => {
    const seen = watch()
    const token = await pkiManager().getToken()

    expect(seen.tokenRequests()).toEqual([
      expect.objectContaining({
        clientId: PKI_CLIENT,
        grantType: 'client_credentials',
        authorization: 'none',
        status: 200,
        viaMtlsAlias: true,
        clientCertificate: pki.thumbprint,
      }),
    ])
    expect(decodeJwt(token.accessToken).cnf).toEqual({ 'x5t#S256': pki.thumbprint })
  })

  it('self_signed_tls_client_auth: a self-signed certificate registered in the client jwks', async () => {
    const seen = watch()
    const token = await createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: SELF_SIGNED_CLIENT,
        resource: RESOURCES.jwt,
        clientAuth: selfSignedTlsClientAuth({ dispatcher: agentWith(selfSigned) }),
      }),
      fetch: trusting,
    }).getToken()

    expect(seen.tokenRequests()).toEqual([
      expect.objectContaining({
        clientId: SELF_SIGNED_CLIENT,
        authorization: 'none',
        status: 200,
        viaMtlsAlias: true,
        clientCertificate: selfSigned.thumbprint,
      }),
    ])
    expect(decodeJwt(token.accessToken).cnf).toEqual({ 'x5t#S256': selfSigned.thumbprint })
  })

  it("takes the mTLS token endpoint as tokenUrl, with undici's own fetch given to the method", async () => {
    const seen = watch()
    const agent = agentWith(pki)
    const token = await createTokenManager({
      grant: clientCredentials({
        tokenUrl: as.mtlsEndpoints?.tokenUrl,
        clientId: PKI_CLIENT,
        resource: RESOURCES.jwt,
        clientAuth: tlsClientAuth({
          dispatcher: agent,
          fetch: (url, init) => undiciFetch(url, init as never) as unknown as Promise<Response>,
        }),
      }),
    }).getToken()

    expect(seen.tokenRequests()).toEqual([
      expect.objectContaining({ clientId: PKI_CLIENT, status: 200, viaMtlsAlias: true }),
    ])
    expect(decodeJwt(token.accessToken).cnf).toEqual({ 'x5t#S256': pki.thumbprint })
  })

  it('revokes at the alias of revocation_endpoint, authenticated by the certificate', async () => {
    const agent = agentWith(pki)
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: PKI_CLIENT,
        // oidc-provider revokes opaque tokens only.
        resource: RESOURCES.opaque,
        clientAuth: tlsClientAuth({ dispatcher: agent }),
      }),
      fetch: trusting,
    })
    await manager.getToken()
    const before = as.revocationRequests.length
    await expect(manager.revoke()).resolves.toEqual({ accessTokens: 1, refreshTokens: 0 })
    expect(as.revocationRequests.slice(before)).toEqual([
      {
        clientId: PKI_CLIENT,
        tokenTypeHint: 'access_token',
        status: 200,
        viaMtlsAlias: true,
        clientCertificate: pki.thumbprint,
      },
    ])
  })
})

describe('discovery at a server that lists mTLS methods', () => {
  it('"auto" with a secret picks client_secret_basic at the plain token endpoint, never an mTLS method', async () => {
    const seen = watch()
    await createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: DEMO_CLIENTS.basic.clientId,
        clientSecret: DEMO_CLIENTS.basic.clientSecret,
      }),
      fetch: trusting,
    }).getToken()

    expect(seen.tokenRequests()).toEqual([
      expect.objectContaining({
        clientId: DEMO_CLIENTS.basic.clientId,
        authorization: 'basic',
        status: 200,
        viaMtlsAlias: false,
        clientCertificate: undefined,
      }),
    ])
  })
})

describe('certificate-bound tokens through every client (RFC 8705 §3)', () => {
  function clientOf(row: ClientRow, manager: TokenManager, credentials?: Credentials) {
    return row.create(
      { manager, origins: new URL(api.url).origin },
      { baseUrl: api.url, ...(credentials && { tls: tlsOf(credentials) }) },
    )
  }

  it.each(rows)(
    '$name: presenting the certificate the token is bound to, 10 concurrent requests get through on one token',
    async (row) => {
      const seen = watch()
      const client = clientOf(row, pkiManager(), pki)
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.send({ path: `/orders/${i}` })),
      )

      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
      expect(seen.tokenRequests().map((request) => request.status)).toEqual([200])
      await vi.waitFor(() => expect(seen.judged()).toHaveLength(10))
      expect(seen.judged().every((j) => j.status === 200 && j.presented === pki.thumbprint)).toBe(
        true,
      )
    },
  )

  it.each(rows.filter((row) => row.family === 'fetch' || row.family === 'axios'))(
    '$name: presenting another certificate, the bound token is refused; one refresh, one retry, then the 401',
    async (row) => {
      const seen = watch()
      const client = clientOf(row, pkiManager(), other)
      const reply = await client.send({ path: '/orders' })

      expect(reply.status).toBe(401)
      await vi.waitFor(() => expect(seen.judged()).toHaveLength(2))
      expect(seen.judged()).toEqual([
        { path: '/orders', status: 401, error: 'invalid_token', presented: other.thumbprint },
        { path: '/orders', status: 401, error: 'invalid_token', presented: other.thumbprint },
      ])
      expect(seen.tokenRequests().map((request) => request.clientCertificate)).toEqual([
        pki.thumbprint,
        pki.thumbprint,
      ])
    },
  )

  it('fetch: presenting no certificate, the bound token is refused', async () => {
    const row = rows.find((candidate) => candidate.family === 'fetch') as ClientRow
    const seen = watch()
    const client = row.create(
      { manager: pkiManager(), origins: new URL(api.url).origin },
      { baseUrl: api.url, tls: { ...tlsOf(pki), cert: '', key: '' } },
    )
    const reply = await client.send({ path: '/orders' })
    expect(reply.status).toBe(401)
    await vi.waitFor(() => expect(seen.judged().length).toBeGreaterThan(0))
    expect(seen.judged().every((j) => j.presented === undefined && j.status === 401)).toBe(true)
  })
})

describe('bad input names the option and the fix', () => {
  it('an mTLS method a server does not support is a ConfigError naming clientAuth, before any token request', async () => {
    const plain = await startAuthorizationServer()
    try {
      const manager = createTokenManager({
        grant: clientCredentials({
          issuer: discover(plain.issuer),
          clientId: PKI_CLIENT,
          clientAuth: tlsClientAuth({ dispatcher: agentWith(pki) }),
        }),
      })
      const error = await manager.getToken().catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).option).toBe('clientAuth')
      expect((error as ConfigError).message).toMatch(
        /"tls_client_auth" is not among the methods http:\/\/127\.0\.0\.1:\d+ supports \(.*client_secret_basic.*\)\. Set clientAuth to one of them/,
      )
      expect(plain.tokenRequests).toHaveLength(0)
    } finally {
      await plain.close()
    }
  })

  it('no certificate in the transport: the server answers invalid_client, an OAuthError', async () => {
    const seen = watch()
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: PKI_CLIENT,
        clientAuth: tlsClientAuth(),
      }),
      // The manager's fetch carries the token request: it trusts the CA, presents nothing.
      fetch: trusting,
      retry: false,
    })
    const error = await manager.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OAuthError)
    expect((error as OAuthError).code).toBe('invalid_client')
    expect(seen.tokenRequests()).toEqual([
      expect.objectContaining({ status: 401, viaMtlsAlias: true, clientCertificate: undefined }),
    ])
  })

  it('a certificate of another subject: invalid_client, and nothing of the key in the error', async () => {
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: PKI_CLIENT,
        clientAuth: tlsClientAuth({ dispatcher: agentWith(other) }),
      }),
      fetch: trusting,
      retry: false,
    })
    const error = await manager.getToken().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OAuthError)
    expect((error as OAuthError).code).toBe('invalid_client')
    const printed = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`
    expect(printed).not.toContain(other.key.split('\n')[1])
    expect(printed).not.toContain('PRIVATE KEY')
  })
})
