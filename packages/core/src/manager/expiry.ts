import { lifetimeFromJwt } from '../grants/jwt'
import type { Token } from '../types'

/**
 * After an early refresh fails, the still-valid token is served and the refresh tried again
 * this many ms later (or at half the remaining lifetime, when sooner): often enough to renew
 * before expiry, seldom enough not to hammer a failing token endpoint.
 */
export const EARLY_REFRESH_RETRY_INTERVAL = 5_000

/**
 * Lifetime in ms of a token just issued: `expires_in` wins; else the JWT `exp` (decoded, never
 * trusted); else `defaultLifetime`; else `undefined`, kept until a resource server rejects it.
 */
export function tokenLifetime(
  expiresIn: unknown,
  accessToken: string,
  defaultLifetime: number | undefined,
): number | undefined {
  return seconds(expiresIn) ?? lifetimeFromJwt(accessToken) ?? defaultLifetime
}

/**
 * When a token requested at `startedAt` expires and when to refresh it: `refreshSkew` early,
 * but never more than half the lifetime, so short-lived tokens don't refresh on every call.
 */
export function expiryTimes(
  lifetime: number | undefined,
  startedAt: number,
  refreshSkew: number,
): { expiresAt: number | undefined; refreshAt: number | undefined } {
  if (lifetime === undefined) return { expiresAt: undefined, refreshAt: undefined }
  return {
    expiresAt: startedAt + lifetime,
    refreshAt: startedAt + lifetime - Math.min(refreshSkew, lifetime / 2),
  }
}

/** When to try again after an early refresh of a token expiring at `expiresAt` failed at `now`. */
export function earlyRefreshRetryAt(now: number, expiresAt: number): number {
  return now + Math.min((expiresAt - now) / 2, EARLY_REFRESH_RETRY_INTERVAL)
}

/** Milliseconds from `from` until `token` expires, when known (reported in events). */
export function lifetimeFrom(token: Token, from: number): number | undefined {
  return token.expiresAt === undefined ? undefined : token.expiresAt - from
}

/** `expires_in` in ms; numeric strings accepted, anything else (NaN, ≤ 0) means unknown. */
function seconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) && number > 0
    ? number * 1000
    : undefined
}
