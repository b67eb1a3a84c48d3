import type { TokenRequest } from './grants/grants'

/** What every known secret in server-supplied text is replaced with. */
export const REDACTED = '[redacted]'

/**
 * Secrets shorter than this are not redacted. A short value is likely to occur in ordinary
 * text ("invalid", "Bearer", a status code): replacing it would garble every message and,
 * worse, tell the reader that the secret equals the word it replaced. Eight is the shortest
 * password NIST SP 800-63B lets a verifier accept, so any password a compliant server takes is
 * covered; client secrets, tokens and the Basic credentials are far longer.
 */
export const MIN_SECRET_LENGTH = 8

/** Replaces every known secret, in each of its encodings, with {@link REDACTED}. */
export type Redact = (text: string) => string

/** Where a manager's secrets come from; read only when an error is being built. */
export type SecretSource = () => Iterable<string | undefined>

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1)
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/**
 * The forms in which a secret may come back in server text: as is, form-urlencoded,
 * percent-encoded (upper- and lower-case hex), JSON-escaped (also with `\/`), HTML-escaped, and
 * base64 (standard and URL-safe, unpadded, so a padded copy is caught as well).
 */
function encodings(secret: string): string[] {
  const percent = encodeURIComponent(secret)
  const json = JSON.stringify(secret).slice(1, -1)
  const forms = [
    secret,
    formEncode(secret),
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    json,
    json.replaceAll('/', '\\/'),
    secret.replace(/[&<>"']/g, (char) => HTML_ENTITIES[char] as string),
  ]
  const base64 = toBase64(secret)
  if (base64 !== undefined) forms.push(base64, base64.replaceAll('+', '-').replaceAll('/', '_'))
  return forms
}

/** Unpadded base64 of the UTF-8 bytes of `value`, on every platform (`btoa` takes Latin-1 only). */
function toBase64(value: string): string | undefined {
  try {
    let binary = ''
    for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte)
    return btoa(binary).replace(/=+$/, '')
  } catch {
    return undefined
  }
}

/**
 * A function that replaces each of `secrets` (those of at least {@link MIN_SECRET_LENGTH}
 * characters), in each of its encodings, with {@link REDACTED}. Longer forms go first, so a
 * secret that contains another is removed whole. Built on error paths only.
 */
export function redactor(secrets: Iterable<string | undefined>): Redact {
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue
    for (const form of encodings(secret)) forms.add(form)
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length)
  return (text) => {
    let result = text
    for (const form of ordered)
      if (result.includes(form)) result = result.split(form).join(REDACTED)
    return result
  }
}

/** A {@link redactor} of `secrets()`, built on its first use: free unless an error needs it. */
export function lazyRedactor(secrets: SecretSource): Redact {
  let redact: Redact | undefined
  return (text) => {
    redact ??= redactor(secrets())
    return redact(text)
  }
}

/** Member names that hold a credential, in request and response bodies alike. */
const SECRET_NAME =
  /secret|passw|pwd|token|assertion|credential|api[-_]?key|private|signature|code_verifier|cookie|authorization|(^|[-_])(key|pin|otp|code)$/i
/** …except those that name a kind of token, not a token (`token_type`, `token_type_hint`). */
const NOT_SECRET_NAME = /type|hint/i

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name)
}

/**
 * The credentials a token request carries: its `Authorization` credentials (for Basic also
 * the decoded `id:secret` pair and the secret in it), every header named like a credential
 * (`x-api-key`, `cookie`), and every member of a form or JSON body whose name says it is
 * secret (`client_secret`, `password`, `refresh_token`, `client_assertion`, `api_key`…), in
 * the body and in the URL's query.
 * This is how the secrets of a custom grant are known without being declared.
 */
export function requestSecrets(request: TokenRequest | undefined): string[] {
  if (request === undefined) return []
  const found: string[] = []
  for (const [name, value] of Object.entries(request.headers)) {
    if (!isSecretName(name)) continue
    // `Basic <credentials>`: the credentials only, so a message still shows the scheme.
    const [, scheme, credentials] = /authorization$/i.test(name)
      ? (/^\s*(\S+)\s+(.+?)\s*$/.exec(value) ?? [])
      : []
    found.push(credentials ?? value)
    if (credentials !== undefined && scheme?.toLowerCase() === 'basic')
      found.push(...basicParts(credentials))
  }
  const type = Object.entries(request.headers).find(([name]) => /^content-type$/i.test(name))?.[1]
  if (type?.toLowerCase().includes('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(request.body))
      if (isSecretName(name)) found.push(value)
  } else {
    try {
      collectSecrets(JSON.parse(request.body), false, found, 0)
    } catch {
      // A raw body of unknown shape: only what the grant declares is known.
    }
  }
  try {
    for (const [name, value] of new URL(request.url).searchParams)
      if (isSecretName(name)) found.push(value)
  } catch {
    // Not a URL: nothing to read.
  }
  return found
}

/** The pair inside Basic credentials, decoded: `id:secret`, and the secret on its own. */
function basicParts(credentials: string): string[] {
  try {
    const pair = atob(credentials)
    const secret = pair.slice(pair.indexOf(':') + 1)
    const decoded = [pair, secret]
    try {
      decoded.push(decodeURIComponent(secret.replaceAll('+', ' ')))
    } catch {
      // Not form-encoded.
    }
    return decoded
  } catch {
    return []
  }
}

/**
 * Strings in a response body that are credentials: any member whose name (or an enclosing
 * member's) says so, e.g. `access_token`, `refresh_token`, `id_token`, `{ token: { value } }`.
 */
export function bodySecrets(body: unknown): string[] {
  const found: string[] = []
  collectSecrets(body, false, found, 0)
  return found
}

function collectSecrets(value: unknown, secret: boolean, found: string[], depth: number): void {
  if (depth > 8) return
  if (typeof value === 'string') {
    if (secret) found.push(value)
  } else if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, secret, found, depth + 1)
  } else if (value !== null && typeof value === 'object') {
    for (const [name, inner] of Object.entries(value))
      collectSecrets(inner, secret || isSecretName(name), found, depth + 1)
  }
}

/**
 * Redacts, in place, the text of a value thrown by code that is not ours (a grant's own
 * `request()`/`parse()`, a platform error) before it becomes a `cause`: the `message`, `stack`
 * and other string properties of an error and of its `cause` chain and `errors`, and the
 * strings in plain objects and arrays it holds. A string is returned redacted. What cannot be
 * written (a frozen error) is left as it is.
 */
export function redactValue<T>(value: T, redact: Redact): T {
  return redactInPlace(value, redact, new Set(), 0) as T
}

function redactInPlace(value: unknown, redact: Redact, seen: Set<unknown>, depth: number): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object' || seen.has(value) || depth > 8) return value
  seen.add(value)
  const target = value as Record<string, unknown>
  const names = new Set(Object.getOwnPropertyNames(target))
  if (value instanceof Error) for (const name of ['message', 'stack', 'cause']) names.add(name)
  for (const name of names) {
    let current: unknown
    try {
      current = target[name]
    } catch {
      continue
    }
    const next = redactInPlace(current, redact, seen, depth + 1)
    if (next !== current) {
      try {
        target[name] = next
      } catch {
        // Read-only: left as it is.
      }
    }
  }
  return value
}
