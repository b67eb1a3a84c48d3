import { ConfigError, type Token } from '@oauth-interceptors/core'

/**
 * The format version written into every stored value. A reader that meets any other version
 * treats the entry as a miss, so processes of an old and a new release can share one Redis
 * during a rolling deploy: at worst one of them asks the token endpoint again.
 */
const VERSION = 1

/** An AES-GCM key: a `CryptoKey` allowed to encrypt and decrypt, or 32 raw bytes (AES-256). */
export type EncryptionKey = CryptoKey | Uint8Array | ArrayBuffer

/** Turns tokens into stored values and back; with a key, the values are AES-GCM encrypted. */
export class EntryCodec {
  readonly #key: Promise<CryptoKey> | undefined

  constructor(encryptionKey: EncryptionKey | undefined) {
    this.#key = encryptionKey === undefined ? undefined : importKey(encryptionKey)
  }

  /** `binding` (the Redis key) is authenticated with the value, so entries can't be swapped. */
  async encode(token: Token, binding: string): Promise<string> {
    if (this.#key === undefined) return JSON.stringify({ v: VERSION, token })
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const data = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(binding) },
      await this.#key,
      utf8(JSON.stringify(token)),
    )
    return JSON.stringify({ v: VERSION, iv: toBase64(iv), data: toBase64(new Uint8Array(data)) })
  }

  /** The token in `value`, or `undefined` for anything it cannot trust or read: never throws. */
  async decode(value: unknown, binding: string): Promise<Token | undefined> {
    try {
      const entry: unknown = typeof value === 'string' ? JSON.parse(value) : undefined
      if (!isRecord(entry) || entry.v !== VERSION) return undefined
      if (this.#key === undefined) return asToken(entry.token)
      // With encryption on, a plaintext entry could have been planted by anyone who can write
      // to Redis: only values sealed with our key count.
      if (typeof entry.iv !== 'string' || typeof entry.data !== 'string') return undefined
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(entry.iv), additionalData: utf8(binding) },
        await this.#key,
        fromBase64(entry.data),
      )
      return asToken(JSON.parse(new TextDecoder().decode(plain)))
    } catch {
      // Wrong key (e.g. during a key rotation), truncated or foreign data: a miss, not an error.
      return undefined
    }
  }
}

function importKey(key: EncryptionKey): Promise<CryptoKey> {
  if (key instanceof Uint8Array || key instanceof ArrayBuffer) {
    if (key.byteLength !== 32) {
      throw new ConfigError(
        'encryptionKey',
        `expected 32 bytes, got ${key.byteLength}`,
        'Pass 32 random bytes (AES-256), e.g. Buffer.from(process.env.TOKEN_KEY, "base64"), or a CryptoKey.',
      )
    }
    // importKey copies the bytes now: later changes to the caller's buffer don't change the key.
    const imported = crypto.subtle.importKey('raw', new Uint8Array(key), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ])
    imported.catch(() => {}) // Reported where it is awaited, not as an unhandled rejection.
    return imported
  }
  const usages: readonly string[] = isRecord(key) && Array.isArray(key.usages) ? key.usages : []
  if (
    !isRecord(key) ||
    (key.algorithm as { name?: unknown } | undefined)?.name !== 'AES-GCM' ||
    !usages.includes('encrypt') ||
    !usages.includes('decrypt')
  ) {
    throw new ConfigError(
      'encryptionKey',
      'expected an AES-GCM CryptoKey with the usages encrypt and decrypt, or 32 raw bytes',
      'Create one with crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]).',
    )
  }
  return Promise.resolve(key)
}

/** Rebuilds a Token from parsed JSON, checking each field; `undefined` if anything is off. */
function asToken(value: unknown): Token | undefined {
  if (!isRecord(value)) return undefined
  const { accessToken, tokenType, expiresAt, refreshAt, refreshToken, scope, raw, jkt } = value
  if (
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    typeof tokenType !== 'string' ||
    !isOptional(expiresAt, 'number') ||
    !isOptional(refreshAt, 'number') ||
    !isOptional(refreshToken, 'string') ||
    !isOptional(scope, 'string') ||
    !isOptional(jkt, 'string') ||
    !isRecord(raw)
  ) {
    return undefined
  }
  const token = { accessToken, tokenType, expiresAt, refreshAt, refreshToken, scope, raw }
  // A DPoP token names the key it is bound to (RFC 9449 §6).
  return jkt === undefined ? token : { ...token, jkt }
}

function isOptional<T extends 'number' | 'string'>(
  value: unknown,
  type: T,
): value is (T extends 'number' ? number : string) | undefined {
  return (
    value === undefined || (typeof value === type && (type !== 'number' || Number.isFinite(value)))
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text)
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
}
