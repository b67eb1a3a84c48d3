/**
 * JWT client authentication (RFC 7523 §2.2, RFC 7521 §4.2), imported from
 * `@oauth-interceptors/core/jwt`: pass `privateKeyJwt({ key })` or `clientSecretJwt()` as a
 * grant's `clientAuth`. The signing code (`jose`) lives here only, so an app that does not
 * import this entry does not ship it.
 *
 * @example
 * import { clientCredentials } from '@oauth-interceptors/core'
 * import { privateKeyJwt } from '@oauth-interceptors/core/jwt'
 *
 * clientCredentials({ tokenUrl, clientId: 'orders-service',
 *   clientAuth: privateKeyJwt({ key: process.env.CLIENT_KEY_PEM, kid: 'key-1' }) })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/jwt
 */
import { importJWK, importPKCS8, type JWK, SignJWT } from 'jose'
import { ConfigError } from './errors'
import type { ClientAssertion, ClientAssertionInput } from './grants/grants'

/**
 * A private JSON Web Key (RFC 7517): `kty` `RSA`, `EC` (`crv` P-256, P-384, P-521) or `OKP`
 * (`crv` Ed25519), with the private member `d` and the other members of its type.
 */
export interface PrivateJwk {
  /** The key type: `RSA`, `EC` or `OKP`. */
  kty?: string | undefined
  /** The curve of an EC or OKP key. */
  crv?: string | undefined
  /** The private key; a JWK without it is a public key. */
  d?: string | undefined
  /** The key id, sent as the assertion's `kid` header unless `kid` is given. */
  kid?: string | undefined
  /** The other members of the key type (`n`, `e`, `p`, `q`, `x`, `y`…). */
  [member: string]: unknown
}
export type { ClientAssertion, ClientAssertionInput } from './grants/grants'

/** Signature algorithms of `private_key_jwt`; which ones fit depends on the key. */
export type PrivateKeyJwtAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'

/** MAC algorithms of `client_secret_jwt`. */
export type ClientSecretJwtAlgorithm = 'HS256' | 'HS384' | 'HS512'

/** What both JWT methods share. */
export interface AssertionOptions {
  /**
   * The assertion's `aud`. RFC 7523 §3 names the authorization server; most servers take the
   * token endpoint URL, some want the issuer (set it here then).
   * @default the token endpoint URL
   */
  assertionAudience?: string | undefined
  /** Seconds from `iat` to `exp`. @default 60 */
  lifetime?: number | undefined
}

/**
 * Options of {@link privateKeyJwt}.
 * @example { key: process.env.CLIENT_KEY_PEM, kid: 'key-1' }
 */
export interface PrivateKeyJwtOptions extends AssertionOptions {
  /**
   * The client's private key: a private JWK (with `d`), a PKCS#8 PEM string
   * (`-----BEGIN PRIVATE KEY-----`) or a private `CryptoKey` that can sign. RSA, EC (P-256,
   * P-384, P-521) and Ed25519 keys.
   */
  key: PrivateJwk | string | CryptoKey
  /** The `kid` header, naming the key among those registered for the client. @default the JWK's `kid`, else none */
  kid?: string | undefined
  /**
   * The signature algorithm. @default from the key: RS256 for RSA (PS256 for an RSA-PSS key),
   * ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519
   */
  algorithm?: PrivateKeyJwtAlgorithm | undefined
}

/** Options of {@link clientSecretJwt}. */
export interface ClientSecretJwtOptions extends AssertionOptions {
  /** The MAC algorithm. @default 'HS256' */
  algorithm?: ClientSecretJwtAlgorithm | undefined
}

const ASSERTION_LIFETIME = 60
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

type Family = 'RSA' | 'RSA-PSS' | 'P-256' | 'P-384' | 'P-521' | 'Ed25519'

const ALGORITHMS: Record<Family, readonly PrivateKeyJwtAlgorithm[]> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'RSA-PSS': ['PS256', 'PS384', 'PS512'],
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  Ed25519: ['EdDSA'],
}

const KEY_FIX =
  'Pass key: a private JWK (with "d"), a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") or a private CryptoKey; RSA, EC P-256/P-384/P-521 or Ed25519.'

/**
 * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): each token request carries a
 * new assertion signed with the client's private key; the server checks it with the public key
 * registered for the client. Claims: `iss` = `sub` = the client id, `aud` = the token endpoint
 * (or `assertionAudience`), a random `jti`, `iat` now and `exp` 60 s later.
 * @example
 * clientCredentials({ tokenUrl, clientId: 'svc',
 *   clientAuth: privateKeyJwt({ key: JSON.parse(process.env.CLIENT_JWK), algorithm: 'PS256' }) })
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export function privateKeyJwt(options: PrivateKeyJwtOptions): ClientAssertion {
  const { key } = options ?? {}
  const family = keyFamily(key)
  const allowed = ALGORITHMS[family]
  const algorithm = options.algorithm ?? (allowed[0] as PrivateKeyJwtAlgorithm)
  if (!allowed.includes(algorithm)) {
    throw new ConfigError(
      'algorithm',
      `"${String(algorithm)}" does not fit ${family.startsWith('P-') ? `an EC ${family}` : `an ${family}`} key`,
      `Use ${allowed.map((name) => `"${name}"`).join(', ')}, or leave algorithm out to take it from the key.`,
    )
  }
  if (isCryptoKey(key)) {
    const hash = (key.algorithm as { hash?: { name?: string } }).hash?.name
    if (hash && !algorithm.endsWith(hash.slice(4))) {
      throw new ConfigError(
        'algorithm',
        `"${algorithm}" does not fit this CryptoKey, made for ${hash}`,
        `Use the algorithm with ${hash}, or import the key for the algorithm you want.`,
      )
    }
  }
  const kid = options.kid ?? (typeof key === 'object' && !isCryptoKey(key) ? key.kid : undefined)
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    throw new ConfigError(
      'kid',
      'expected a non-empty string',
      'Set kid to the key id registered for the client, or leave it out.',
    )
  }
  let imported: Promise<CryptoKey> | undefined
  const load = (): Promise<CryptoKey> =>
    typeof key === 'string'
      ? importPKCS8(key, algorithm, { extractable: false })
      : isCryptoKey(key)
        ? Promise.resolve(key)
        : (importJWK(key as JWK, algorithm, { extractable: false }) as Promise<CryptoKey>)
  return new JwtAssertion('private_key_jwt', algorithm, kid, options, keySecrets(key), () => {
    imported ??= load().catch(() => {
      throw new ConfigError(
        'key',
        `the ${algorithm} private key could not be imported`,
        `Check that it is a complete, unencrypted key. ${KEY_FIX}`,
      )
    })
    return imported
  })
}

/**
 * `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): each token request carries a
 * new assertion, an HMAC (HS256) of its claims keyed with the grant's `clientSecret`, which is
 * itself never sent. Claims as with {@link privateKeyJwt}.
 * @example
 * clientCredentials({ tokenUrl, clientId: 'svc', clientSecret: process.env.CLIENT_SECRET,
 *   clientAuth: clientSecretJwt() })
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export function clientSecretJwt(options: ClientSecretJwtOptions = {}): ClientAssertion {
  const algorithm = options.algorithm ?? 'HS256'
  if (!['HS256', 'HS384', 'HS512'].includes(algorithm)) {
    throw new ConfigError(
      'algorithm',
      `"${String(algorithm)}" is not a client_secret_jwt algorithm`,
      'Use "HS256", "HS384" or "HS512"; for a private key use privateKeyJwt({ key }).',
    )
  }
  // The HMAC key is imported once per secret, not for every assertion.
  let imported: [string, Promise<CryptoKey>] | undefined
  return new JwtAssertion('client_secret_jwt', algorithm, undefined, options, [], (secret) => {
    if (imported?.[0] !== secret) {
      const hash = { name: `SHA-${algorithm.slice(2)}` }
      const key = crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(secret),
        { name: 'HMAC', hash },
        false,
        ['sign'],
      )
      imported = [secret, key as Promise<CryptoKey>]
    }
    return imported[1]
  })
}

/** Holds the key out of sight: nothing of it in `console.log`, `util.inspect` or JSON. */
class JwtAssertion implements ClientAssertion {
  readonly method: ClientAssertion['method']
  readonly #algorithm: string
  readonly #kid: string | undefined
  readonly #audience: string | undefined
  readonly #lifetime: number
  readonly #secrets: readonly string[]
  readonly #key: (secret: string) => Promise<CryptoKey | Uint8Array>

  constructor(
    method: ClientAssertion['method'],
    algorithm: string,
    kid: string | undefined,
    options: AssertionOptions,
    secrets: readonly string[],
    key: (secret: string) => Promise<CryptoKey | Uint8Array>,
  ) {
    this.method = method
    this.#algorithm = algorithm
    this.#kid = kid
    const audience = options.assertionAudience
    if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
      throw new ConfigError(
        'assertionAudience',
        'expected a non-empty string',
        'Set it to the audience the server expects (its issuer or token endpoint URL), or leave it out for the token endpoint URL.',
      )
    }
    this.#audience = audience
    const lifetime = options.lifetime ?? ASSERTION_LIFETIME
    if (!Number.isFinite(lifetime) || lifetime < 1) {
      throw new ConfigError(
        'lifetime',
        `expected seconds >= 1, got ${String(lifetime)}`,
        'Set lifetime to the assertion lifetime in seconds, e.g. 60, or leave it out.',
      )
    }
    this.#lifetime = lifetime
    this.#secrets = secrets
    this.#key = key
  }

  async members(client: ClientAssertionInput): Promise<Record<string, string>> {
    return { client_assertion_type: JWT_BEARER, client_assertion: await this.sign(client) }
  }

  /** A new assertion: `iss` = `sub` = the client, a random `jti`, `iat` now, a short `exp`. */
  async sign({ clientId, tokenUrl, clientSecret }: ClientAssertionInput): Promise<string> {
    const key = await this.#key(clientSecret ?? '')
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({})
      .setProtectedHeader({
        alg: this.#algorithm,
        ...(this.#kid !== undefined && { kid: this.#kid }),
      })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(this.#audience ?? tokenUrl)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.#lifetime)
      .sign(key)
  }

  secrets(): readonly string[] {
    return this.#secrets
  }

  /** The method, algorithm and kid: no key material. */
  toJSON(): { method: string; algorithm: string; kid?: string } {
    return {
      method: this.method,
      algorithm: this.#algorithm,
      ...(this.#kid !== undefined && { kid: this.#kid }),
    }
  }

  /** `console.log` and `util.inspect` show what {@link JwtAssertion.toJSON} shows. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ClientAssertion ${JSON.stringify(this.toJSON())}`
  }
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof CryptoKey !== 'undefined' && key instanceof CryptoKey
}

/** The kind of key, checked without importing it: a private, asymmetric key of a known type. */
function keyFamily(key: unknown): Family {
  if (key === undefined || key === null || key === '') {
    throw new ConfigError('key', "missing: privateKeyJwt() needs the client's private key", KEY_FIX)
  }
  if (typeof key === 'string') return pemFamily(key)
  if (isCryptoKey(key)) {
    if (key.type !== 'private') {
      throw new ConfigError(
        'key',
        `a ${key.type} CryptoKey cannot sign a private_key_jwt assertion`,
        key.type === 'secret'
          ? `For a shared secret use clientSecret with clientAuth: clientSecretJwt(). ${KEY_FIX}`
          : `Pass the private key of the pair. ${KEY_FIX}`,
      )
    }
    if (!key.usages.includes('sign')) {
      throw new ConfigError(
        'key',
        'the CryptoKey was not imported for "sign"',
        'Import or generate it with the "sign" usage.',
      )
    }
    const { name, namedCurve } = key.algorithm as { name: string; namedCurve?: string }
    if (name === 'RSASSA-PKCS1-v1_5') return 'RSA'
    if (name === 'RSA-PSS') return 'RSA-PSS'
    if (
      name === 'ECDSA' &&
      (namedCurve === 'P-256' || namedCurve === 'P-384' || namedCurve === 'P-521')
    )
      return namedCurve
    if (name === 'Ed25519') return 'Ed25519'
    throw new ConfigError('key', `a CryptoKey for ${name} cannot sign a JWT assertion`, KEY_FIX)
  }
  if (typeof key !== 'object') {
    throw new ConfigError(
      'key',
      `expected a JWK, a PEM string or a CryptoKey, got ${typeof key}`,
      KEY_FIX,
    )
  }
  const jwk = key as JWK
  if (jwk.kty === 'oct') {
    throw new ConfigError(
      'key',
      'a symmetric (kty "oct") JWK cannot sign a private_key_jwt assertion',
      "For a shared secret use clientSecret with clientAuth: clientSecretJwt(); for private_key_jwt pass the client's private key.",
    )
  }
  const family =
    jwk.kty === 'RSA'
      ? 'RSA'
      : jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384' || jwk.crv === 'P-521')
        ? jwk.crv
        : jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
          ? 'Ed25519'
          : undefined
  if (!family) {
    throw new ConfigError(
      'key',
      `a JWK of kty "${String(jwk.kty)}"${jwk.crv ? ` and crv "${jwk.crv}"` : ''} is not supported`,
      KEY_FIX,
    )
  }
  if (typeof jwk.d !== 'string') {
    throw new ConfigError(
      'key',
      'the JWK is a public key (no "d")',
      `Pass the private JWK; register the public one with the server. ${KEY_FIX}`,
    )
  }
  return family
}

// DER encodings of the OIDs a PKCS#8 PrivateKeyInfo names its algorithm (and EC curve) with.
const OIDS: Array<[Family, number[]]> = [
  ['RSA', [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]], // rsaEncryption
  ['RSA-PSS', [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]], // id-RSASSA-PSS
  ['P-256', [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]], // prime256v1
  ['P-384', [0x2b, 0x81, 0x04, 0x00, 0x22]], // secp384r1
  ['P-521', [0x2b, 0x81, 0x04, 0x00, 0x23]], // secp521r1
  ['Ed25519', [0x06, 0x03, 0x2b, 0x65, 0x70]], // id-Ed25519, with its tag and length
]

function pemFamily(pem: string): Family {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1]
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'CERTIFICATE') {
    throw new ConfigError(
      'key',
      `the PEM is a ${label.toLowerCase()}, not a private key`,
      `Pass the private key; register the public one with the server. ${KEY_FIX}`,
    )
  }
  if (label === 'RSA PRIVATE KEY' || label === 'EC PRIVATE KEY') {
    throw new ConfigError(
      'key',
      `the PEM is a ${label === 'RSA PRIVATE KEY' ? 'PKCS#1' : 'SEC 1'} key, not PKCS#8`,
      'Convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem, and pass the "-----BEGIN PRIVATE KEY-----" text.',
    )
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new ConfigError(
      'key',
      'the PEM is encrypted',
      'Decrypt it (openssl pkcs8 -in key.pem -nocrypt) or import it yourself and pass the CryptoKey.',
    )
  }
  const body = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(
    pem,
  )?.[1]
  let der: Uint8Array | undefined
  try {
    der = body
      ? Uint8Array.from(atob(body.replace(/\s+/g, '')), (char) => char.charCodeAt(0))
      : undefined
  } catch {
    der = undefined
  }
  if (!der) {
    throw new ConfigError('key', 'the string is not a PKCS#8 PEM private key', KEY_FIX)
  }
  // The algorithm identifier comes first, within the first few dozen bytes.
  const head = der.subarray(0, 40)
  const found = OIDS.filter(([, oid]) => indexOf(head, oid) >= 0).map(([family]) => family)
  // An EC key names both id-ecPublicKey and its curve; the curve is what counts.
  const family = found.find((name) => name.startsWith('P-')) ?? found[0]
  if (!family) throw new ConfigError('key', 'the PEM holds a key of an unsupported type', KEY_FIX)
  return family
}

function indexOf(bytes: Uint8Array, sequence: number[]): number {
  outer: for (let i = 0; i + sequence.length <= bytes.length; i++) {
    for (let j = 0; j < sequence.length; j++) if (bytes[i + j] !== sequence[j]) continue outer
    return i
  }
  return -1
}

/** Every string of key material, in the forms a server might echo it. */
function keySecrets(key: unknown): string[] {
  if (typeof key === 'string') {
    const lines = key.split(/\r?\n/).map((line) => line.trim())
    const body = lines.filter((line) => line && !line.startsWith('-----'))
    return [key, body.join(''), ...body]
  }
  if (isCryptoKey(key) || typeof key !== 'object' || key === null) return []
  const jwk = key as Record<string, unknown>
  const members = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].map((name) => jwk[name])
  return [
    JSON.stringify(jwk),
    ...members.filter((value): value is string => typeof value === 'string'),
  ]
}
