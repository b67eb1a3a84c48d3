/**
 * DPoP (RFC 9449), imported from `@oauth-interceptors/core/dpop`: pass `dpop()` as a token
 * manager's `dpop` option, and the tokens it gets are bound to a key only this client holds.
 * Every token request and every request an adapter sends with a DPoP token carries a new
 * proof signed with that key, and a server's `use_dpop_nonce` is answered with one retry. The
 * signing code (`jose`) lives here only, so an app that does not import this entry does not
 * ship it.
 *
 * @example
 * import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
 * import { dpop } from '@oauth-interceptors/core/dpop'
 *
 * const tokens = createTokenManager({
 *   grant: clientCredentials({ tokenUrl, clientId, clientSecret }),
 *   dpop: dpop(), // a new non-extractable ES256 key pair, made in this process
 * })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/dpop
 */
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
  SignJWT,
} from 'jose'
import { ConfigError } from './errors'
import { sha256Base64url } from './hash'
import type { PrivateJwk } from './jwt'
import { ALGORITHMS, isCryptoKey, type KeyUse, keyFamily, keySecrets } from './keys'
import { LruMap } from './manager/memory-store'
import type { DPoPKey, DPoPTokenRequests } from './types'

/** Headers without a nonce: `observe()` with them tells the nonce already known. */
const NO_HEADERS = { get: () => null }

export type { PrivateJwk } from './jwt'
export type { DPoPKey } from './types'

/** JWS algorithms a DPoP key may sign proofs with (RFC 9449 §4.2: asymmetric only). */
export type DPoPAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'

/** Options of {@link dpop}. */
export interface DPoPOptions {
  /**
   * The private key proofs are signed with: a private JWK (with `d`), a PKCS#8 PEM string or a
   * private `CryptoKey`. Required when tokens are shared through a `store`, as every process
   * must then prove the same key. RSA, EC (P-256, P-384, P-521) and Ed25519 keys.
   * @default a new non-extractable key pair for `algorithm`, made in this process
   */
  privateKey?: PrivateJwk | string | CryptoKey | undefined
  /**
   * The public key of `privateKey`, as a JWK or a `CryptoKey`: needed only with a private
   * `CryptoKey` that is not extractable (its public half cannot be read from it).
   * @default derived from `privateKey`
   */
  publicKey?: JWK | CryptoKey | undefined
  /**
   * The signature algorithm.
   * @default from the key: ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519, PS256
   * for RSA; ES256 for a generated key
   */
  algorithm?: DPoPAlgorithm | undefined
  /**
   * The clock of each proof's `iat`, in ms since the epoch. Note that a server that finds it
   * too far from its own asks for a nonce instead (RFC 9449 §8).
   * @default Date.now
   */
  now?: (() => number) | undefined
}

const DPOP_KEY: KeyUse = {
  option: 'privateKey',
  purpose: 'a DPoP proof',
  missing: 'it is missing',
  fix: 'Pass privateKey: a private JWK (with "d"), a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") or a private CryptoKey; EC P-256/P-384/P-521, Ed25519 or RSA. Or leave it out for a key made in this process.',
}

/** Nonces are kept for this many origins (the token endpoint and each API). */
const NONCE_ORIGINS = 100
/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/
/** The members of a public JWK, by key type (RFC 7638 §3.2 and the `kid` some servers want). */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  RSA: ['kty', 'n', 'e'],
}

/**
 * A DPoP key for a token manager's `dpop` option: each proof is a JWT of `typ` `dpop+jwt` with
 * the public key as `jwk`, the request's method (`htm`) and URL without query and fragment
 * (`htu`), `iat`, a random `jti`, the server's latest `nonce` for that origin, and for a request
 * that carries an access token its SHA-256 (`ath`). The key never appears in errors, events,
 * `console.log` or JSON.
 * @example
 * createTokenManager({ grant, dpop: dpop({ privateKey: process.env.DPOP_KEY_PEM }) })
 * @throws ConfigError for a key that cannot sign proofs, or an algorithm that does not fit it
 * @see https://www.rfc-editor.org/rfc/rfc9449
 */
export function dpop(options: DPoPOptions = {}): DPoPKey {
  return new DPoPProver(options ?? {})
}

interface KeyPair {
  privateKey: CryptoKey
  /** The public JWK, as each proof's header carries it. */
  jwk: JWK
  /** Its RFC 7638 SHA-256 thumbprint. */
  thumbprint: string
}

/** Holds the key out of sight, and the latest nonce of each origin. */
class DPoPProver implements DPoPKey {
  readonly given: boolean
  readonly #algorithm: string
  readonly #now: () => number
  readonly #load: () => Promise<KeyPair>
  #keys: Promise<KeyPair> | undefined
  readonly #nonces = new LruMap<string>(NONCE_ORIGINS)
  /** The `ath` of the latest access token: most proofs are for the same token. */
  #ath: [string, Promise<string>] | undefined
  readonly #secrets: readonly string[]

  constructor({ privateKey, publicKey, algorithm, now }: DPoPOptions) {
    if (now !== undefined && typeof now !== 'function') {
      throw new ConfigError(
        'now',
        'expected a function',
        'Pass now: () => Date.now(), or leave it out.',
      )
    }
    this.#now = now ?? Date.now
    this.given = privateKey !== undefined
    if (privateKey === undefined) {
      const alg = algorithm ?? 'ES256'
      if (!Object.values(ALGORITHMS).some((list) => (list as readonly string[]).includes(alg))) {
        throw new ConfigError(
          'algorithm',
          `"${String(alg)}" is not an asymmetric JWS algorithm`,
          'Use "ES256" (the default), "EdDSA", "PS256" or another one of DPoPAlgorithm.',
        )
      }
      this.#algorithm = alg
      this.#secrets = []
      this.#load = async () => {
        const pair = await generateKeyPair(alg, { extractable: false })
        return withThumbprint(pair.privateKey, publicJwk(await exportJWK(pair.publicKey)))
      }
      return
    }
    const family = keyFamily(privateKey, DPOP_KEY)
    const allowed: readonly string[] = ALGORITHMS[family]
    // RSA: PS256 rather than RS256, as FAPI 2.0 requires.
    const alg = algorithm ?? (family === 'RSA' ? 'PS256' : (allowed[0] as string))
    if (!allowed.includes(alg)) {
      throw new ConfigError(
        'algorithm',
        `"${String(alg)}" does not fit ${family.startsWith('P-') ? `an EC ${family}` : `an ${family}`} key`,
        `Use ${allowed.map((name) => `"${name}"`).join(', ')}, or leave algorithm out to take it from the key.`,
      )
    }
    if (isCryptoKey(privateKey) && !privateKey.extractable && publicKey === undefined) {
      throw new ConfigError(
        'publicKey',
        'a private CryptoKey that is not extractable does not reveal its public key',
        "Pass the pair's public key too: dpop({ privateKey: pair.privateKey, publicKey: pair.publicKey }).",
      )
    }
    this.#algorithm = alg
    this.#secrets = keySecrets(privateKey)
    this.#load = async () => {
      const signing =
        typeof privateKey === 'string'
          ? await importPKCS8(privateKey, alg, { extractable: false })
          : isCryptoKey(privateKey)
            ? privateKey
            : ((await importJWK(privateKey as JWK, alg, { extractable: false })) as CryptoKey)
      const source =
        publicKey !== undefined
          ? isCryptoKey(publicKey)
            ? await exportJWK(publicKey)
            : publicKey
          : typeof privateKey === 'string'
            ? await exportJWK(await importPKCS8(privateKey, alg, { extractable: true }))
            : isCryptoKey(privateKey)
              ? await exportJWK(privateKey)
              : (privateKey as JWK)
      return withThumbprint(signing, publicJwk(source))
    }
  }

  async proof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    const { privateKey, jwk } = await this.#keyPair()
    const target = typeof url === 'string' ? new URL(url) : url
    const nonce = this.#nonces.get(target.origin)
    const claims: Record<string, string> = {
      htm: method.toUpperCase(),
      htu: `${target.origin}${target.pathname}`,
    }
    if (accessToken !== undefined) claims.ath = await this.#athOf(accessToken)
    if (nonce !== undefined) claims.nonce = nonce
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.#algorithm, typ: 'dpop+jwt', jwk })
      .setIssuedAt(Math.floor(this.#now() / 1000))
      .setJti(crypto.randomUUID())
      .sign(privateKey)
  }

  observe(url: string | URL, headers: { get(name: string): unknown }): string | undefined {
    const value = headers.get('dpop-nonce')
    let origin: string
    try {
      origin = typeof url === 'string' ? new URL(url).origin : url.origin
    } catch {
      return undefined
    }
    if (typeof value === 'string' && NONCE.test(value)) this.#nonces.set(origin, value)
    return this.#nonces.get(origin)
  }

  async thumbprint(): Promise<string> {
    return (await this.#keyPair()).thumbprint
  }

  secrets(): readonly string[] {
    return this.#secrets
  }

  tokenRequests({ shared }: { shared: boolean }): DPoPTokenRequests {
    if (shared && !this.given) {
      throw new ConfigError(
        'dpop.privateKey',
        'with a shared store every process must prove the same key, and a key made in this process is known to it alone',
        'Pass the key every process shares: dpop({ privateKey: process.env.DPOP_PRIVATE_KEY }) (a PKCS#8 PEM or a private JWK).',
      )
    }
    return {
      // The token endpoint's nonce comes with any of its answers (RFC 9449 §8).
      fetch: (fetch) => async (url, init) => {
        const response = await fetch(url, init)
        this.observe(url, response.headers)
        return response
      },
      sign: async (request) => {
        const proof = await this.proof('POST', request.url)
        return { ...request, headers: { ...request.headers, dpop: proof } }
      },
      bind: async (token) =>
        token.tokenType === 'DPoP' ? { ...token, jkt: await this.thumbprint() } : token,
      // RFC 9449 §8: the server wants its nonce in the proof; it sent one, so ask once more.
      retry: (failure, url) =>
        failure.code === 'use_dpop_nonce' && this.observe(url, NO_HEADERS) !== undefined,
    }
  }

  /** The algorithm and whether the key was given: no key material. */
  toJSON(): { algorithm: string; given: boolean } {
    return { algorithm: this.#algorithm, given: this.given }
  }

  /** `console.log` and `util.inspect` show what {@link DPoPProver.toJSON} shows. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DPoPKey ${JSON.stringify(this.toJSON())}`
  }

  #keyPair(): Promise<KeyPair> {
    this.#keys ??= this.#load().catch((cause: unknown) => {
      this.#keys = undefined
      if (cause instanceof ConfigError) throw cause
      throw new ConfigError(
        'privateKey',
        `the ${this.#algorithm} DPoP key could not be ${this.given ? 'imported' : 'generated'}`,
        this.given
          ? `Check that it is a complete, unencrypted private key. ${DPOP_KEY.fix}`
          : 'This platform has no WebCrypto support for the algorithm: choose another one, or pass privateKey.',
      )
    })
    return this.#keys
  }

  #athOf(accessToken: string): Promise<string> {
    if (this.#ath?.[0] !== accessToken) this.#ath = [accessToken, sha256Base64url(accessToken)]
    return this.#ath[1]
  }
}

async function withThumbprint(privateKey: CryptoKey, jwk: JWK): Promise<KeyPair> {
  return { privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') }
}

/** The public members of `jwk` only: never `d` or the other private members. */
function publicJwk(jwk: JWK): JWK {
  const members = PUBLIC_MEMBERS[String(jwk.kty)]
  if (members === undefined) {
    throw new ConfigError(
      'publicKey',
      `a JWK of kty "${String(jwk.kty)}" is not a DPoP public key`,
      'Pass the public key of privateKey, an EC, OKP or RSA key.',
    )
  }
  const result: Record<string, unknown> = {}
  for (const name of members) result[name] = (jwk as Record<string, unknown>)[name]
  return result as JWK
}
