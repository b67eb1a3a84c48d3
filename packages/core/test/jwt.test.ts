import { inspect } from 'node:util'
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type JWK,
  jwtVerify,
} from 'jose'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  refreshTokenGrant,
  type TokenEvent,
} from '../src/index'
import { clientSecretJwt, privateKeyJwt } from '../src/jwt'
import { revocation } from '../src/revocation'
import { ISSUER, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const form = (body: string) => Object.fromEntries(new URLSearchParams(body))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const rsa = await generateKeyPair('RS256', { extractable: true })
const rsaJwk: JWK = { ...(await exportJWK(rsa.privateKey)), kid: 'rsa-1' }
const rsaPem = await exportPKCS8(rsa.privateKey)
const ec = await generateKeyPair('ES256', { extractable: true })
const ecPem = await exportPKCS8(ec.privateKey)
const ed = await generateKeyPair('EdDSA', { extractable: true })
const edJwk = await exportJWK(ed.privateKey)
const SECRET = 'a-client-secret-of-at-least-thirty-two-bytes'

/** The one request the endpoint saw, and its assertion verified with `key`. */
async function sentAssertion(seen: { headers: Record<string, unknown>; body: string }[], at = 0) {
  const request = seen[at]
  if (!request) throw new Error(`no request ${at}`)
  const body = form(request.body)
  return { headers: request.headers, body, assertion: body.client_assertion ?? '' }
}

describe('private_key_jwt (RFC 7523 §2.2)', () => {
  it('sends a signed assertion, client_id and no secret or Authorization header', async () => {
    const seen = tokenEndpoint()
    const before = Math.floor(Date.now() / 1000)
    await createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'orders-service',
        scope: 'orders:read',
        clientAuth: privateKeyJwt({ key: rsaJwk }),
      }),
    }).getToken()

    const { headers, body, assertion } = await sentAssertion(seen)
    expect(headers.authorization).toBeUndefined()
    expect(Object.keys(body).sort()).toEqual([
      'client_assertion',
      'client_assertion_type',
      'client_id',
      'grant_type',
      'scope',
    ])
    expect(body).toMatchObject({
      grant_type: 'client_credentials',
      client_id: 'orders-service',
      client_assertion_type: JWT_BEARER,
    })
    const { payload, protectedHeader } = await jwtVerify(assertion, rsa.publicKey, {
      algorithms: ['RS256'],
      issuer: 'orders-service',
      subject: 'orders-service',
      audience: TOKEN_URL,
    })
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: 'rsa-1' })
    expect(payload.jti).toMatch(UUID)
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
    expect((payload.exp as number) - (payload.iat as number)).toBe(60)
  })

  it('takes a PKCS#8 PEM; RS256 by default, PS256 when asked, the kid given', async () => {
    const seen = tokenEndpoint()
    const manager = (algorithm?: 'PS256') =>
      createTokenManager({
        grant: clientCredentials({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientAuth: privateKeyJwt({ key: rsaPem, kid: 'pem-1', algorithm }),
        }),
      })
    await manager().getToken()
    await manager('PS256').getToken()
    const rs = (await sentAssertion(seen, 0)).assertion
    const ps = (await sentAssertion(seen, 1)).assertion
    expect(decodeProtectedHeader(rs)).toEqual({ alg: 'RS256', kid: 'pem-1' })
    expect(decodeProtectedHeader(ps)).toEqual({ alg: 'PS256', kid: 'pem-1' })
    await jwtVerify(rs, rsa.publicKey, { algorithms: ['RS256'] })
    const psPublic = await (await import('jose')).importSPKI(
      await exportSPKI(rsa.publicKey),
      'PS256',
    )
    await jwtVerify(ps, psPublic, { algorithms: ['PS256'] })
  })

  it('derives ES256 from a P-256 key (PEM or CryptoKey) and EdDSA from an Ed25519 JWK', async () => {
    const seen = tokenEndpoint()
    for (const key of [ecPem, ec.privateKey, edJwk]) {
      await createTokenManager({
        grant: clientCredentials({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientAuth: privateKeyJwt({ key }),
        }),
      }).getToken()
    }
    const algs = await Promise.all(
      [0, 1, 2].map(async (at) => decodeProtectedHeader((await sentAssertion(seen, at)).assertion)),
    )
    expect(algs).toEqual([{ alg: 'ES256' }, { alg: 'ES256' }, { alg: 'EdDSA' }])
    await jwtVerify((await sentAssertion(seen, 0)).assertion, ec.publicKey)
    await jwtVerify((await sentAssertion(seen, 1)).assertion, ec.publicKey)
    await jwtVerify((await sentAssertion(seen, 2)).assertion, ed.publicKey)
  })

  it('uses assertionAudience as aud when the server wants its issuer', async () => {
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: privateKeyJwt({ key: rsaJwk, assertionAudience: ISSUER }),
      }),
    }).getToken()
    const { payload } = await jwtVerify((await sentAssertion(seen)).assertion, rsa.publicKey)
    expect(payload.aud).toBe(ISSUER)
  })

  it('signs a fresh assertion for every attempt, retries included (RFC 7521 §4.2)', async () => {
    const seen = tokenEndpoint((_, index) =>
      index === 0
        ? [503, { error: 'temporarily_unavailable' }]
        : [200, { access_token: `at-${index}`, expires_in: 3600 }],
    )
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: privateKeyJwt({ key: rsaJwk }),
      }),
      retry: { retries: 1, minDelay: 1, maxDelay: 1 },
    })
    const first = await manager.getToken()
    manager.invalidate(first.accessToken)
    await manager.getToken()
    expect(seen).toHaveLength(3)
    const jtis = await Promise.all(
      [0, 1, 2].map(async (at) => {
        const { payload } = await jwtVerify(
          (await sentAssertion(seen, at)).assertion,
          rsa.publicKey,
        )
        return payload.jti
      }),
    )
    expect(new Set(jtis).size).toBe(3)
  })

  it('authenticates the refresh too', async () => {
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'web',
        refreshToken: 'rt-start-value',
        clientAuth: privateKeyJwt({ key: rsaJwk }),
      }),
    }).getToken()
    const { body, assertion } = await sentAssertion(seen)
    expect(body).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'rt-start-value' })
    await jwtVerify(assertion, rsa.publicKey, { issuer: 'web', audience: TOKEN_URL })
  })
})

describe('client_secret_jwt (RFC 7523 §2.2)', () => {
  it('sends an HS256 assertion keyed with the secret, never the secret itself', async () => {
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientSecret: SECRET,
        clientAuth: clientSecretJwt(),
      }),
    }).getToken()
    const { headers, body, assertion } = await sentAssertion(seen)
    expect(headers.authorization).toBeUndefined()
    expect(body.client_secret).toBeUndefined()
    expect(seen[0]?.body).not.toContain(SECRET)
    expect(body).toMatchObject({ client_id: 'svc', client_assertion_type: JWT_BEARER })
    const { payload, protectedHeader } = await jwtVerify(
      assertion,
      new TextEncoder().encode(SECRET),
      { algorithms: ['HS256'], issuer: 'svc', subject: 'svc', audience: TOKEN_URL },
    )
    expect(protectedHeader).toEqual({ alg: 'HS256' })
    expect(payload.jti).toMatch(UUID)
  })

  it('needs clientSecret', () => {
    const error = catchError(() =>
      clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth: clientSecretJwt() }),
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'clientSecret' })
    expect(error.message).toContain('client_secret_jwt')
  })
})

function catchError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    return error as ConfigError
  }
  throw new Error('did not throw')
}

describe('bad keys are a ConfigError naming the option and the fix', () => {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = rsaJwk
  const cases: Array<[string, () => unknown, string, RegExp]> = [
    ['a missing key', () => privateKeyJwt({} as never), 'key', /missing.*private JWK/],
    [
      'a public JWK',
      () => privateKeyJwt({ key: publicJwk }),
      'key',
      /public key.*Pass the private JWK/,
    ],
    [
      'a symmetric JWK',
      () => privateKeyJwt({ key: { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' } }),
      'key',
      /symmetric.*clientSecretJwt/,
    ],
    [
      'a public CryptoKey',
      () => privateKeyJwt({ key: rsa.publicKey }),
      'key',
      /public CryptoKey.*private key of the pair/,
    ],
    [
      'a public PEM',
      () => privateKeyJwt({ key: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----' }),
      'key',
      /public key, not a private key/,
    ],
    [
      'a PKCS#1 PEM',
      () =>
        privateKeyJwt({
          key: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----',
        }),
      'key',
      /PKCS#1.*openssl pkcs8 -topk8/,
    ],
    ['text that is no PEM', () => privateKeyJwt({ key: 'not a key' }), 'key', /not a PKCS#8 PEM/],
    [
      'an RSA key with ES256',
      () => privateKeyJwt({ key: rsaJwk, algorithm: 'ES256' }),
      'algorithm',
      /"ES256" does not fit an RSA key.*"RS256", "RS384"/,
    ],
    [
      'a P-256 PEM with RS256',
      () => privateKeyJwt({ key: ecPem, algorithm: 'RS256' }),
      'algorithm',
      /does not fit an EC P-256 key.*"ES256"/,
    ],
    [
      'the method given as a string',
      () =>
        clientCredentials({
          tokenUrl: TOKEN_URL,
          clientId: 'svc',
          clientAuth: 'private_key_jwt' as never,
        }),
      'clientAuth',
      /privateKeyJwt\(\) or clientSecretJwt\(\) from "@oauth-interceptors\/core\/jwt"/,
    ],
  ]
  it.each(cases)('%s', (_name, run, option, message) => {
    const error = catchError(run)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.option).toBe(option)
    expect(error.message).toMatch(message)
  })
})

describe('a key that passes the checks but cannot be imported', () => {
  it('fails the token request with a ConfigError naming key, before anything is sent', async () => {
    const lines = rsaPem.trim().split('\n')
    // The algorithm identifier survives; the key itself is cut short.
    const truncated = [...lines.slice(0, 6), lines.at(-1)].join('\n')
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: privateKeyJwt({ key: truncated }),
      }),
    })
    const error = (await manager.getToken().catch((caught: unknown) => caught)) as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.option).toBe('key')
    expect(error.message).toMatch(/could not be imported.*complete, unencrypted key/)
    for (const line of lines.slice(1, 6)) expect(inspect(error)).not.toContain(line)
    expect(manager.stats().retried).toBe(0)
  })
})

describe('key material, secret and assertions stay out of sight', () => {
  const keyParts = [rsaJwk.d, rsaJwk.p, rsaJwk.q, rsaJwk.dp] as string[]
  const pemBody = rsaPem.split('\n').filter((line) => line && !line.startsWith('-----'))

  it('in inspect and JSON of the method, the grant and the manager', () => {
    const auth = privateKeyJwt({ key: rsaJwk })
    const pemAuth = privateKeyJwt({ key: rsaPem })
    const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth: auth })
    const secretGrant = clientCredentials({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      clientSecret: SECRET,
      clientAuth: clientSecretJwt(),
    })
    const manager = createTokenManager({ grant })
    const shown = [auth, pemAuth, grant, secretGrant, manager]
      .flatMap((value) => [
        inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        JSON.stringify(value) ?? '',
        String(value),
      ])
      .join('\n')
    expect(inspect(auth)).toBe(
      'ClientAssertion {"method":"private_key_jwt","algorithm":"RS256","kid":"rsa-1"}',
    )
    for (const part of [...keyParts, ...pemBody, SECRET]) expect(shown).not.toContain(part)
  })

  it('in errors and events, even when the server echoes them', async () => {
    let echoed = ''
    tokenEndpoint((request) => {
      const { client_assertion } = form(request.body)
      echoed = client_assertion ?? ''
      return [
        401,
        {
          error: 'invalid_client',
          error_description: `bad assertion ${client_assertion} key ${pemBody[1]}`,
        },
      ]
    })
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientAuth: privateKeyJwt({ key: rsaPem }),
      }),
      onEvent: (event) => events.push(event),
    })
    const error = (await manager.getToken().catch((caught: unknown) => caught)) as Error
    expect(echoed).not.toBe('')
    expect(error.message).toContain('[redacted]')
    const shown = [
      inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(error),
      inspect(events, { depth: Number.POSITIVE_INFINITY }),
      JSON.stringify(events),
    ].join('\n')
    expect(events.length).toBeGreaterThan(0)
    for (const part of [echoed, pemBody[1] as string]) expect(shown).not.toContain(part)
  })

  it('the client secret of client_secret_jwt is redacted when echoed', async () => {
    tokenEndpoint(() => [
      401,
      { error: 'invalid_client', error_description: `secret ${SECRET} is wrong` },
    ])
    const error = (await createTokenManager({
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientSecret: SECRET,
        clientAuth: clientSecretJwt(),
      }),
    })
      .getToken()
      .catch((caught: unknown) => caught)) as Error
    expect(error.message).toContain('secret [redacted] is wrong')
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain(SECRET)
  })
})

describe('JWT client authentication on revocation (RFC 7009 §2.1)', () => {
  it('authenticates the revocation request with a fresh assertion whose aud is the revocation endpoint', async () => {
    const tokens = tokenEndpoint()
    const revocations = tokenEndpoint(() => [200, ''], { path: '/oauth/revoke' })
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        tokenUrl: TOKEN_URL,
        revocationUrl: `${ISSUER}/oauth/revoke`,
        clientId: 'orders-service',
        clientAuth: privateKeyJwt({ key: rsaJwk }),
      }),
    })
    await manager.getToken()

    await manager.revoke()

    const token = await sentAssertion(tokens)
    const revocationRequest = await sentAssertion(revocations)
    expect(revocationRequest.headers.authorization).toBeUndefined()
    expect(revocationRequest.body).toMatchObject({
      token: 'at-1',
      token_type_hint: 'access_token',
      client_id: 'orders-service',
      client_assertion_type: JWT_BEARER,
    })
    const { payload } = await jwtVerify(revocationRequest.assertion, rsa.publicKey, {
      audience: `${ISSUER}/oauth/revoke`,
      issuer: 'orders-service',
      subject: 'orders-service',
    })
    expect(payload.jti).not.toBe(decodeJwt(token.assertion).jti)
  })
})
