/**
 * Lifetime in ms left on a JWT access token, read from its `exp` claim, or `undefined` for
 * opaque tokens and JWTs without a future `exp`. Decoding only: the signature is not
 * checked, so this is used for scheduling a refresh, never for trust.
 */
export function lifetimeFromJwt(token: string, now: number = Date.now()): number | undefined {
  const expiry = jwtExpiry(token)
  const lifetime = expiry === undefined ? undefined : expiry - now
  return lifetime !== undefined && lifetime > 0 ? lifetime : undefined
}

/** A JWT's `exp` in ms since the epoch, or `undefined` for opaque tokens and JWTs without one. Decoded, never trusted. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[1]) return undefined
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'))
    const exp: unknown = (JSON.parse(json) as { exp?: unknown }).exp
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}
