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
import { ALGORITHMS, isCryptoKey, keyFamily, keySecrets, PRIVATE_KEY_JWT } from './keys'

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
  const allowed: readonly PrivateKeyJwtAlgorithm[] = ALGORITHMS[family]
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
        `Check that it is a complete, unencrypted key. ${PRIVATE_KEY_JWT.fix}`,
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
