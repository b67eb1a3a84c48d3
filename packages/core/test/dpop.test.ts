import { createHash, generateKeyPairSync } from 'node:crypto'
import { inspect } from 'node:util'
import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
} from 'jose'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createRequestPolicy, fetchWithCredentials } from '../src/adapter'
import { dpop } from '../src/dpop'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  MemoryTokenStore,
  OAuthError,
  TokenEndpointError,
  type TokenManagerOptions,
} from '../src/index'
import { type SeenRequest, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const API = 'https://api.example.test'
const FILES = 'https://files.example.test'
const CLIENT = { tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 'svc-secret-6f1c2a' }
const DPOP_TOKEN = { access_token: 'dpop-at-1', token_type: 'DPoP', expires_in: 3600 }

function manager(options: Partial<TokenManagerOptions> = {}) {
  return createTokenManager({ grant: clientCredentials(CLIENT), dpop: dpop(), ...options })
}

/** A proof as the server checks it: signed by the key its header carries, of type dpop+jwt. */
async function verified(proof: unknown) {
  if (typeof proof !== 'string') throw new Error(`expected a DPoP proof, got ${String(proof)}`)
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })
  return { claims: payload as Record<string, unknown>, header: protectedHeader }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

/** Tokens dpop-at-1, dpop-at-2, … from the token endpoint. */
function issuing(): SeenRequest[] {
  return tokenEndpoint((_request, index) => [
    200,
    { access_token: `dpop-at-${index + 1}`, token_type: 'DPoP', expires_in: 3600 },
  ])
}

/** The API's mock: each reply in turn; records the headers each request carried. */
function api(origin: string, replies: Array<[number, Record<string, string>?]>, methods = ['GET']) {
  const seen: Array<{ path: string; authorization: string; proof: string }> = []
  for (const method of methods) {
    nock(origin)
      .persist()
      .intercept(/.*/, method)
      .reply(function (path) {
        seen.push({
          path,
          authorization: String(this.req.headers.authorization),
          proof: String(this.req.headers.dpop),
        })
        const [status, headers] = replies[Math.min(seen.length, replies.length) - 1] ?? [200]
        return [status, '{}', { 'content-type': 'application/json', ...headers }]
      })
  }
  return seen
}

const NONCE_CHALLENGE = { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }

function send(m: ReturnType<typeof manager>, url: string, init: RequestInit = {}) {
  const policy = createRequestPolicy({ manager: m, origins: [API, FILES] })
  return fetchWithCredentials(policy, fetch, url, init)
}

describe('dpop(): a proof on every token request (RFC 9449 §4.2)', () => {
  it('signs each with the public key in its header, POST and the endpoint URL, iat and a new jti', async () => {
    const seen = issuing()
    const now = 1_760_000_000_123
    const key = dpop({ now: () => now })
    const tokens = manager({ dpop: key })

    const first = await tokens.getToken()
    tokens.invalidate(first.accessToken)
    await tokens.getToken()

    expect(seen).toHaveLength(2)
    const proofs = await Promise.all(seen.map((request) => verified(request.headers.dpop)))
    for (const { header, claims } of proofs) {
      expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
      expect(Object.keys(header.jwk as JWK).sort()).toEqual(['crv', 'kty', 'x', 'y'])
      expect(claims).toEqual({
        htm: 'POST',
        htu: TOKEN_URL,
        iat: Math.floor(now / 1000),
        jti: expect.any(String),
      })
    }
    expect(proofs[0]?.claims.jti).not.toBe(proofs[1]?.claims.jti)
    // The client still authenticates as it would without DPoP.
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /)
    expect(await calculateJwkThumbprint(proofs[0]?.header.jwk as JWK)).toBe(await key.thumbprint())
  })

  it('takes token_type DPoP in any case, and names the key the token is bound to (jkt)', async () => {
    tokenEndpoint(() => [200, { ...DPOP_TOKEN, token_type: 'dpop' }])
    const key = dpop()
    const token = await manager({ dpop: key }).getToken()
    expect(token).toMatchObject({ tokenType: 'DPoP', jkt: await key.thumbprint() })
  })

  it('answers 400 use_dpop_nonce once, with the nonce the endpoint sent', async () => {
    const seen = tokenEndpoint((_request, index) =>
      index === 0
        ? [400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': 'as-nonce-1' }]
        : [200, DPOP_TOKEN],
    )
    const token = await manager().getToken()

    expect(token.accessToken).toBe('dpop-at-1')
    const [first, second] = await Promise.all(seen.map((r) => verified(r.headers.dpop)))
    expect(first?.claims.nonce).toBeUndefined()
    expect(second?.claims.nonce).toBe('as-nonce-1')
    expect(first?.claims.jti).not.toBe(second?.claims.jti)
  })

  it('gives up after the one nonce retry: a second use_dpop_nonce reaches the caller', async () => {
    let nonce = 0
    const seen = tokenEndpoint(() => [
      400,
      { error: 'use_dpop_nonce', error_description: 'nonce required' },
      { 'dpop-nonce': `as-nonce-${++nonce}` },
    ])
    const failure = await manager()
      .getToken()
      .catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(OAuthError)
    expect(failure).toMatchObject({ code: 'use_dpop_nonce' })
    expect(seen).toHaveLength(2)
  })

  it('does not retry a use_dpop_nonce that came without a nonce', async () => {
    const seen = tokenEndpoint(() => [400, { error: 'use_dpop_nonce' }])
    await expect(manager().getToken()).rejects.toMatchObject({ code: 'use_dpop_nonce' })
    expect(seen).toHaveLength(1)
  })

  it("keeps the nonce of any answer for the endpoint's next proof", async () => {
    const seen = tokenEndpoint((_request, index) => [
      200,
      { ...DPOP_TOKEN, access_token: `dpop-at-${index + 1}` },
      { 'dpop-nonce': `as-nonce-${index + 1}` },
    ])
    const tokens = manager()
    tokens.invalidate((await tokens.getToken()).accessToken)
    await tokens.getToken()

    const proofs = await Promise.all(seen.map((r) => verified(r.headers.dpop)))
    expect(proofs.map((proof) => proof.claims.nonce)).toEqual([undefined, 'as-nonce-1'])
  })

  it('accepts DPoP tokens only with a DPoP key', async () => {
    tokenEndpoint(() => [200, DPOP_TOKEN])
    const failure = await createTokenManager({ grant: clientCredentials(CLIENT) })
      .getToken()
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TokenEndpointError)
    expect(failure).toMatchObject({ code: 'unsupported_token_type' })
    expect(String(failure)).not.toContain('dpop-at-1')

    const tokenTypes = () =>
      createTokenManager({ grant: clientCredentials(CLIENT), tokenTypes: ['Bearer', 'DPoP'] })
    expect(tokenTypes).toThrow(ConfigError)
    expect(tokenTypes).toThrow(/tokenTypes.*dpop\(\)/s)
  })

  it('a dpop option that dpop() did not make is a ConfigError naming dpop and where dpop() is', () => {
    const key = dpop()
    // A hand-made key that lost proof() (a spread drops a class's methods) fails here, not at the first API request.
    const partial = {
      tokenRequests: key.tokenRequests.bind(key),
      thumbprint: () => key.thumbprint(),
    }
    for (const wrong of [{ privateKey: 'not a key' }, partial]) {
      const make = () =>
        createTokenManager({
          grant: clientCredentials(CLIENT),
          dpop: wrong as unknown as ReturnType<typeof dpop>,
        })
      expect(make).toThrow(
        expect.objectContaining({
          name: 'ConfigError',
          option: 'dpop',
          message: expect.stringContaining("dpop() from '@oauth-interceptors/core/dpop'"),
        }),
      )
    }
  })
})

describe('dpop(): keys', () => {
  it('signs with an RSA PKCS#8 PEM as PS256, and shows only the public members', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const seen = tokenEndpoint(() => [200, DPOP_TOKEN])
    await manager({ dpop: dpop({ privateKey: pem }) }).getToken()

    const { header } = await verified(seen[0]?.headers.dpop)
    expect(header.alg).toBe('PS256')
    expect(Object.keys(header.jwk as JWK).sort()).toEqual(['e', 'kty', 'n'])
  })

  it('signs with a private JWK and with a CryptoKey pair, each as its key type says', async () => {
    const ec = await generateKeyPair('ES384', { extractable: true })
    const jwk = await exportJWK(ec.privateKey)
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: false })
    const seen = tokenEndpoint((_request, index) => [
      200,
      { ...DPOP_TOKEN, access_token: `dpop-at-${index + 1}` },
    ])
    const fromJwk = dpop({ privateKey: jwk })
    const fromPair = dpop({ privateKey: ed.privateKey, publicKey: ed.publicKey })
    await manager({ dpop: fromJwk }).getToken()
    await manager({ dpop: fromPair }).getToken()

    const [first, second] = await Promise.all(seen.map((r) => verified(r.headers.dpop)))
    expect(first?.header.alg).toBe('ES384')
    expect(first?.header.jwk).toEqual({ kty: 'EC', crv: 'P-384', x: jwk.x, y: jwk.y })
    expect(await fromJwk.thumbprint()).toBe(await calculateJwkThumbprint(first?.header.jwk as JWK))
    expect(second?.header.alg).toBe('EdDSA')
    expect(second?.header.jwk).toEqual(await exportJWK(ed.publicKey))
  })

  it('refuses keys that cannot sign a proof with a ConfigError naming the option and the fix', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true })
    const publicJwk = await exportJWK(ec.publicKey)
    const locked = await generateKeyPair('ES256', { extractable: false })
    const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString()
    const cases: Array<[() => unknown, string, RegExp]> = [
      [() => dpop({ privateKey: publicJwk }), 'privateKey', /public key.*Pass the private JWK/s],
      [() => dpop({ privateKey: { kty: 'oct', k: 'c2VjcmV0' } }), 'privateKey', /symmetric/],
      [() => dpop({ privateKey: publicPem }), 'privateKey', /public key, not a private key/],
      [() => dpop({ privateKey: ec.publicKey }), 'privateKey', /public CryptoKey/],
      [() => dpop({ privateKey: locked.privateKey }), 'publicKey', /not extractable.*publicKey/s],
      [
        () => dpop({ privateKey: ec.privateKey, algorithm: 'RS256' }),
        'algorithm',
        /does not fit an EC P-256 key.*"ES256"/s,
      ],
      [
        () => dpop({ algorithm: 'HS256' as 'ES256' }),
        'algorithm',
        /not an asymmetric JWS algorithm/,
      ],
      [
        () => createTokenManager({ grant: clientCredentials(CLIENT), dpop: {} as never }),
        'dpop',
        /dpop\(\)/,
      ],
    ]
    for (const [make, option, message] of cases) {
      const failure = (() => {
        try {
          make()
        } catch (error) {
          return error
        }
      })()
      expect(failure, option).toBeInstanceOf(ConfigError)
      expect(failure, option).toMatchObject({ option })
      expect(String((failure as Error).message), option).toMatch(message)
    }
  })

  it('never shows the key: not in console.log, JSON, or an error that echoes it', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = await exportJWK(privateKey)
    const key = dpop({ privateKey: jwk })
    expect(inspect(key, { depth: Infinity, showHidden: true })).not.toContain(jwk.d)
    expect(JSON.stringify(key)).toBe('{"algorithm":"ES256","given":true}')

    tokenEndpoint(() => [400, { error: 'invalid_dpop_proof', error_description: `bad ${jwk.d}` }])
    const failure = await manager({ dpop: key })
      .getToken()
      .catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'invalid_dpop_proof' })
    expect(inspect(failure, { depth: Infinity })).not.toContain(jwk.d)
    expect(JSON.stringify(failure)).not.toContain(jwk.d)
  })
})

describe('dpop(): tokens shared through a store (fleet mode)', () => {
  it('requires a given key: a key made in one process cannot be proved by the others', () => {
    const make = () => manager({ store: new MemoryTokenStore() })
    expect(make).toThrow(ConfigError)
    expect(make).toThrow(/dpop\.privateKey.*dpop\(\{ privateKey/s)
  })

  it('uses a stored token only with the key it is bound to', async () => {
    const { privateKey: first } = await generateKeyPair('ES256', { extractable: true })
    const { privateKey: second } = await generateKeyPair('ES256', { extractable: true })
    const [firstJwk, secondJwk] = [await exportJWK(first), await exportJWK(second)]
    const store = new MemoryTokenStore()
    const seen = issuing()
    const process = (jwk: JWK) => manager({ store, dpop: dpop({ privateKey: jwk }) })

    const issued = await process(firstJwk).getToken()
    // Another process with the same key takes the stored token: no token request.
    await expect(process(firstJwk).getToken()).resolves.toMatchObject({
      accessToken: issued.accessToken,
      jkt: issued.jkt,
    })
    expect(seen).toHaveLength(1)
    // A process with another key gets a token of its own, bound to its key.
    const other = process(secondJwk)
    const own = await other.getToken()
    expect(own.accessToken).not.toBe(issued.accessToken)
    expect(own.jkt).toBe(await dpop({ privateKey: secondJwk }).thumbprint())
    expect(seen).toHaveLength(2)
  })
})

describe('dpop(): resource requests through the pipeline (RFC 9449 §7)', () => {
  it('sends Authorization: DPoP and a proof of its own with each request: htm, htu without query or fragment, ath', async () => {
    issuing()
    const seen = api(API, [[200]], ['GET', 'POST'])
    const m = manager()

    await send(m, `${API}/orders?page=2#top`)
    await send(m, `${API}/orders`, { method: 'POST', body: '{}' })

    expect(seen.map((request) => request.authorization)).toEqual([
      'DPoP dpop-at-1',
      'DPoP dpop-at-1',
    ])
    const [get, post] = await Promise.all(seen.map((request) => verified(request.proof)))
    const ath = sha256('dpop-at-1')
    expect(get?.claims).toMatchObject({ htm: 'GET', htu: `${API}/orders`, ath })
    expect(post?.claims).toMatchObject({ htm: 'POST', htu: `${API}/orders`, ath })
    expect(get?.claims.jti).not.toBe(post?.claims.jti)
  })

  it('sends a request once more with the nonce a 401 use_dpop_nonce asks for, with no token request', async () => {
    const tokens = issuing()
    const seen = api(API, [[401, { ...NONCE_CHALLENGE, 'dpop-nonce': 'api-nonce-1' }], [200]])

    const response = await send(manager(), `${API}/orders`)

    expect(response.status).toBe(200)
    expect(tokens).toHaveLength(1)
    const proofs = await Promise.all(seen.map((request) => verified(request.proof)))
    expect(proofs.map((proof) => proof.claims.nonce)).toEqual([undefined, 'api-nonce-1'])
    expect(seen.map((request) => request.authorization)).toEqual([
      'DPoP dpop-at-1',
      'DPoP dpop-at-1',
    ])
  })

  it('hands the caller a second use_dpop_nonce: one retry per cause', async () => {
    issuing()
    const seen = api(API, [[401, { ...NONCE_CHALLENGE, 'dpop-nonce': 'api-nonce-1' }]])
    const response = await send(manager(), `${API}/orders`)
    expect(response.status).toBe(401)
    expect(seen).toHaveLength(2)
  })

  it('sends at most three times when a request needs both a nonce and a new token', async () => {
    const tokens = issuing()
    const invalid = { 'www-authenticate': 'DPoP error="invalid_token"' }
    const seen = api(API, [
      [401, { ...NONCE_CHALLENGE, 'dpop-nonce': 'api-nonce-1' }],
      [401, invalid],
      [401, { ...NONCE_CHALLENGE, 'dpop-nonce': 'api-nonce-2' }],
    ])

    const response = await send(manager(), `${API}/orders`)

    expect(response.status).toBe(401)
    expect(seen.map((request) => request.authorization)).toEqual([
      'DPoP dpop-at-1',
      'DPoP dpop-at-1',
      'DPoP dpop-at-2',
    ])
    expect(tokens).toHaveLength(2)
    // The proof after the refresh hashes the new token.
    expect((await verified(seen[2]?.proof)).claims.ath).toBe(sha256('dpop-at-2'))
  })

  it('keeps nonces per origin and takes them from any response', async () => {
    issuing()
    const orders = api(API, [[200, { 'dpop-nonce': 'orders-nonce' }]])
    const files = api(FILES, [[200]])
    const m = manager()

    await send(m, `${API}/orders`)
    await send(m, `${API}/orders/1`)
    await send(m, `${FILES}/report.pdf`)

    const nonces = async (seen: typeof orders) =>
      (await Promise.all(seen.map((request) => verified(request.proof)))).map(
        (proof) => proof.claims.nonce,
      )
    expect(await nonces(orders)).toEqual([undefined, 'orders-nonce'])
    expect(await nonces(files)).toEqual([undefined])
  })

  it('sends a Bearer token from a server without DPoP as Bearer, with no proof', async () => {
    tokenEndpoint(() => [200, { access_token: 'bearer-at-1', token_type: 'Bearer' }])
    const seen = api(API, [[200]])
    await send(manager(), `${API}/orders`)
    expect(seen).toEqual([
      { path: '/orders', authorization: 'Bearer bearer-at-1', proof: 'undefined' },
    ])
  })
})
