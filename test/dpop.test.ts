import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { clientCredentials, createTokenManager, type TokenManager } from '@oauth-interceptors/core'
import { dpop } from '@oauth-interceptors/core/dpop'
import {
  type AuthorizationServer,
  listen,
  RESOURCES,
  type RunningServer,
  startAuthorizationServer,
} from '@oauth-interceptors/demo-servers'
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  jwtVerify,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type ClientRow, rows } from './support/conformance-clients'

// DPoP (RFC 9449) against oidc-provider with nonces required, and an API that checks every
// proof with jose (htm, htu, ath, iat, jti replay, nonce, the token's key binding), through
// every client: a proof per send, one retry per nonce asked for, one refresh per rejection.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

const CLIENT = { clientId: 'dpop-service', clientSecret: 'dpop-service-secret-8b2e5d71c4' }

/** One request as the API judged it. */
interface Judged {
  method: string
  path: string
  status: number
  /** Why it was refused, when it was. */
  error?: string
  /** The proof's claims, when it verified. */
  claims?: Record<string, unknown>
}

/**
 * A resource server that accepts only DPoP tokens of the authorization server with a valid
 * proof of their key: the proof's `htm`, `htu`, `ath`, an `iat` within 60 s, a `jti` never
 * seen before, and its current nonce. Every answer carries the current nonce.
 */
interface DPoPApi {
  readonly url: string
  readonly judged: Judged[]
  /** Proofs whose `jti` had been seen before: never any, from a correct client. */
  readonly replays: number
  /** Issues a new nonce: proofs with the old one are answered `use_dpop_nonce`. */
  rotateNonce(): void
  /** Refuses the tokens it accepted so far, as `invalid_token` (as after a revocation). */
  refuseIssued(): void
  close(): Promise<void>
}

async function startDPoPApi(as: AuthorizationServer): Promise<DPoPApi> {
  const jwks = createRemoteJWKSet(new URL(as.jwksUrl))
  const judged: Judged[] = []
  const seen = new Set<string>()
  let replays = 0
  let nonce = randomBytes(12).toString('base64url')
  /** Tokens the API accepted so far, and those it refuses from now on. */
  const accepted = new Set<string>()
  const refused = new Set<string>()
  let running: RunningServer | undefined

  const challenge = (response: ServerResponse, error: string, status = 401) => {
    response.writeHead(status, {
      'www-authenticate': `DPoP error="${error}", algs="ES256 EdDSA PS256"`,
      'dpop-nonce': nonce,
    })
    response.end()
  }

  const judge = async (request: IncomingMessage, response: ServerResponse): Promise<Judged> => {
    const method = request.method ?? 'GET'
    const url = new URL(request.url ?? '/', running?.url)
    const base = { method, path: url.pathname }
    const refuse = (error: string) => {
      challenge(response, error)
      return { ...base, status: 401, error }
    }
    const [scheme, token] = (request.headers.authorization ?? '').split(' ')
    const proof = request.headers.dpop
    if (scheme !== 'DPoP' || !token || typeof proof !== 'string') return refuse('invalid_request')
    let claims: Record<string, unknown>
    let jwk: JWK
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: ['ES256', 'EdDSA', 'PS256'],
      })
      claims = verified.payload
      jwk = decodeProtectedHeader(proof).jwk as JWK
    } catch {
      return refuse('invalid_dpop_proof')
    }
    const jti = String(claims.jti)
    if (seen.has(jti)) {
      replays++
      return refuse('invalid_dpop_proof')
    }
    seen.add(jti)
    const ath = createHash('sha256').update(token).digest('base64url')
    const now = Math.floor(Date.now() / 1000)
    if (
      claims.htm !== method ||
      claims.htu !== `${url.origin}${url.pathname}` ||
      claims.ath !== ath ||
      typeof claims.iat !== 'number' ||
      Math.abs(now - claims.iat) > 60
    ) {
      return refuse('invalid_dpop_proof')
    }
    if (claims.nonce !== nonce) return refuse('use_dpop_nonce')
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: as.issuer,
        audience: RESOURCES.jwt,
      })
      const bound = (payload.cnf as { jkt?: unknown } | undefined)?.jkt
      if (bound !== (await calculateJwkThumbprint(jwk))) return refuse('invalid_token')
    } catch {
      return refuse('invalid_token')
    }
    if (refused.has(token)) return refuse('invalid_token')
    accepted.add(token)
    response.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': nonce })
    response.end(JSON.stringify({ ok: true }))
    return { ...base, status: 200, claims }
  }

  running = await listen((request, response) => {
    // Read the body first (the proof covers the request, not the body).
    request.resume()
    request.on('end', () => {
      judge(request, response).then(
        (result) => judged.push(result),
        () => response.writeHead(500).end(),
      )
    })
  })
  return {
    url: running.url,
    judged,
    get replays() {
      return replays
    },
    rotateNonce() {
      nonce = randomBytes(12).toString('base64url')
    },
    refuseIssued() {
      for (const token of accepted) refused.add(token)
    },
    close: () => (running as RunningServer).close(),
  }
}

let as: AuthorizationServer
let api: DPoPApi

beforeAll(async () => {
  as = await startAuthorizationServer({
    accessTokenTTL: 300,
    dpop: true,
    extraClients: [
      {
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
  })
  api = await startDPoPApi(as)
})

afterAll(async () => {
  await api?.close()
  await as?.close()
})

function dpopManager(key = dpop()): TokenManager {
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: as.tokenUrl, ...CLIENT, resource: RESOURCES.jwt }),
    dpop: key,
  })
}

function clientOf(row: ClientRow, manager: TokenManager) {
  return row.create({ manager, origins: new URL(api.url).origin }, { baseUrl: api.url })
}

/** What the API and the token endpoint saw from now on. */
function watch() {
  const judged = api.judged.length
  const tokens = as.tokenRequests.length
  const replays = api.replays
  return {
    judged: () => api.judged.slice(judged),
    tokenRequests: () => as.tokenRequests.slice(tokens),
    replays: () => api.replays - replays,
  }
}

/** Waits until the API judged `count` requests since `seen` (its record lands just after the answer). */
async function settled(seen: ReturnType<typeof watch>, count: number) {
  await vi.waitFor(() => expect(seen.judged()).toHaveLength(count))
}

describe('DPoP against oidc-provider with nonces required', () => {
  it.each(rows)(
    '$name: a 200-request burst makes one token request (after the nonce) and each request gets through with a proof of its own',
    async (row) => {
      const key = dpop()
      const seen = watch()
      const client = clientOf(row, dpopManager(key))

      const replies = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          client.send(
            i % 2
              ? { path: `/orders/${i}?page=2` }
              : { method: 'POST', path: `/orders`, body: 'json' },
          ),
        ),
      )

      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
      // The token endpoint: one proof without its nonce (400 use_dpop_nonce), one with it.
      expect(
        seen.tokenRequests().map(({ status, error, tokenType }) => ({ status, error, tokenType })),
      ).toEqual([
        { status: 400, error: 'use_dpop_nonce', tokenType: undefined },
        { status: 200, error: undefined, tokenType: 'DPoP' },
      ])
      const [first, second] = seen.tokenRequests().map((request) => request.dpopProof as string)
      expect(decodeProtectedHeader(first as string).jwk).toEqual(
        decodeProtectedHeader(second as string).jwk,
      )
      await vi.waitFor(() =>
        expect(seen.judged().filter((j) => j.status === 200)).toHaveLength(200),
      )
      const judged = seen.judged()
      // Every request was sent at most twice: once more only where the API asked for its nonce.
      expect(judged.filter((j) => j.status === 200)).toHaveLength(200)
      expect(
        judged.filter((j) => j.error !== undefined).every((j) => j.error === 'use_dpop_nonce'),
      ).toBe(true)
      expect(judged.length).toBeLessThanOrEqual(400)
      expect(seen.replays()).toBe(0)
      // Each proof named its own request: the method, and the URL without its query.
      const accepted = judged.filter((j) => j.status === 200)
      expect(accepted.every((j) => j.claims?.htm === j.method)).toBe(true)
      expect(new Set(accepted.map((j) => j.claims?.jti)).size).toBe(200)
      expect(accepted.some((j) => j.method === 'POST')).toBe(true)
    },
  )

  it.each(rows)(
    '$name: a rotated nonce costs one more send and no token request; a refused token and a rotated nonce cost three sends and one token request',
    async (row) => {
      const client = clientOf(row, dpopManager())
      expect((await client.send({ path: '/warm' })).status).toBe(200)

      api.rotateNonce()
      let seen = watch()
      expect((await client.send({ path: '/after-rotation' })).status).toBe(200)
      await settled(seen, 2)
      expect(seen.judged().map((j) => j.error ?? j.status)).toEqual(['use_dpop_nonce', 200])
      expect(seen.tokenRequests()).toEqual([])

      api.refuseIssued()
      api.rotateNonce()
      seen = watch()
      expect((await client.send({ path: '/after-both' })).status).toBe(200)
      await settled(seen, 3)
      expect(seen.judged().map((j) => j.error ?? j.status)).toEqual([
        'use_dpop_nonce',
        'invalid_token',
        200,
      ])
      expect(seen.tokenRequests().map((request) => request.status)).toEqual([200])
      expect(seen.replays()).toBe(0)
    },
  )

  it('binds the token to the key: the token endpoint got a proof of the same key the token names', async () => {
    const key = dpop()
    const seen = watch()
    const token = await dpopManager(key).getToken()

    expect(token.tokenType).toBe('DPoP')
    expect(token.jkt).toBe(await key.thumbprint())
    const accepted = seen.tokenRequests().find((request) => request.status === 200)
    const { jwk } = decodeProtectedHeader(accepted?.dpopProof as string)
    expect(await calculateJwkThumbprint(jwk as JWK)).toBe(token.jkt)
  })
})
