/**
 * Private signing keys as the signing entries take them (a JWK, a PKCS#8 PEM or a CryptoKey):
 * what kind of key one is, checked before it is imported, and its secret strings for redaction.
 */
import type { JWK } from 'jose'
import { ConfigError } from './errors'

/** The kinds of asymmetric private key that sign JWTs here. */
export type KeyFamily = 'RSA' | 'RSA-PSS' | 'P-256' | 'P-384' | 'P-521' | 'Ed25519'

/** JWS algorithms by key kind; the first is the default. */
export const ALGORITHMS = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'RSA-PSS': ['PS256', 'PS384', 'PS512'],
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  Ed25519: ['EdDSA'],
} as const satisfies Record<KeyFamily, readonly string[]>

/** Where a key is given, for errors that name the option and the fix. */
export interface KeyUse {
  /** The option that holds the key. */
  option: string
  /** What the key signs, e.g. "a private_key_jwt assertion". */
  purpose: string
  /** The message when the key is missing. */
  missing: string
  /** How to pass a key. */
  fix: string
  /** What to do instead when a shared secret was given. */
  secretFix?: string | undefined
}

/** The key of `privateKeyJwt({ key })`. */
export const PRIVATE_KEY_JWT: KeyUse = {
  option: 'key',
  purpose: 'a private_key_jwt assertion',
  missing: "missing: privateKeyJwt() needs the client's private key",
  fix: 'Pass key: a private JWK (with "d"), a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") or a private CryptoKey; RSA, EC P-256/P-384/P-521 or Ed25519; register the public key with the server.',
  secretFix: 'For a shared secret use clientSecret with clientAuth: clientSecretJwt().',
}

export function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof CryptoKey !== 'undefined' && key instanceof CryptoKey
}

/** The kind of key, checked without importing it: a private, asymmetric key of a known type. */
export function keyFamily(key: unknown, use: KeyUse = PRIVATE_KEY_JWT): KeyFamily {
  const { option, purpose, fix: KEY_FIX } = use
  if (key === undefined || key === null || key === '') {
    throw new ConfigError(option, use.missing, KEY_FIX)
  }
  if (typeof key === 'string') return pemFamily(key, use)
  if (isCryptoKey(key)) {
    if (key.type !== 'private') {
      throw new ConfigError(
        option,
        `a ${key.type} CryptoKey cannot sign ${purpose}`,
        key.type === 'secret' && use.secretFix
          ? `${use.secretFix} ${KEY_FIX}`
          : `Pass the private key of the pair. ${KEY_FIX}`,
      )
    }
    if (!key.usages.includes('sign')) {
      throw new ConfigError(
        option,
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
    throw new ConfigError(option, `a CryptoKey for ${name} cannot sign ${purpose}`, KEY_FIX)
  }
  if (typeof key !== 'object') {
    throw new ConfigError(
      option,
      `expected a JWK, a PEM string or a CryptoKey, got ${typeof key}`,
      KEY_FIX,
    )
  }
  const jwk = key as JWK
  if (jwk.kty === 'oct') {
    throw new ConfigError(
      option,
      `a symmetric (kty "oct") JWK cannot sign ${purpose}`,
      use.secretFix ? `${use.secretFix} ${KEY_FIX}` : KEY_FIX,
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
      option,
      `a JWK of kty "${String(jwk.kty)}"${jwk.crv ? ` and crv "${jwk.crv}"` : ''} is not supported`,
      KEY_FIX,
    )
  }
  if (typeof jwk.d !== 'string') {
    throw new ConfigError(
      option,
      'the JWK is a public key (no "d")',
      `Pass the private JWK. ${KEY_FIX}`,
    )
  }
  return family
}

// DER encodings of the OIDs a PKCS#8 PrivateKeyInfo names its algorithm (and EC curve) with.
const OIDS: Array<[KeyFamily, number[]]> = [
  ['RSA', [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]], // rsaEncryption
  ['RSA-PSS', [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]], // id-RSASSA-PSS
  ['P-256', [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]], // prime256v1
  ['P-384', [0x2b, 0x81, 0x04, 0x00, 0x22]], // secp384r1
  ['P-521', [0x2b, 0x81, 0x04, 0x00, 0x23]], // secp521r1
  ['Ed25519', [0x06, 0x03, 0x2b, 0x65, 0x70]], // id-Ed25519, with its tag and length
]

function pemFamily(pem: string, use: KeyUse): KeyFamily {
  const { option, fix: KEY_FIX } = use
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1]
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'CERTIFICATE') {
    throw new ConfigError(
      option,
      `the PEM is a ${label.toLowerCase()}, not a private key`,
      `Pass the private key. ${KEY_FIX}`,
    )
  }
  if (label === 'RSA PRIVATE KEY' || label === 'EC PRIVATE KEY') {
    throw new ConfigError(
      option,
      `the PEM is a ${label === 'RSA PRIVATE KEY' ? 'PKCS#1' : 'SEC 1'} key, not PKCS#8`,
      'Convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem, and pass the "-----BEGIN PRIVATE KEY-----" text.',
    )
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new ConfigError(
      option,
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
    throw new ConfigError(option, 'the string is not a PKCS#8 PEM private key', KEY_FIX)
  }
  // The algorithm identifier comes first, within the first few dozen bytes.
  const head = der.subarray(0, 40)
  const found = OIDS.filter(([, oid]) => indexOf(head, oid) >= 0).map(([family]) => family)
  // An EC key names both id-ecPublicKey and its curve; the curve is what counts.
  const family = found.find((name) => name.startsWith('P-')) ?? found[0]
  if (!family) throw new ConfigError(option, 'the PEM holds a key of an unsupported type', KEY_FIX)
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
export function keySecrets(key: unknown): string[] {
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
