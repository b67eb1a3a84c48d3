/**
 * Token revocation (RFC 7009), imported from `@oauth-interceptors/core/revocation`: pass
 * `revocation: revocation()` to `createTokenManager()`, and `tokens.revoke()`,
 * `tokens.close({ revoke: true })` and `tokens.endSession(id, { revoke: true })` revoke at the
 * grant's revocation endpoint (its `revocationUrl`, or the metadata's `revocation_endpoint` with
 * `issuer`). The code lives here only, so an app that does not import this entry does not ship it.
 *
 * @example
 * import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
 * import { revocation } from '@oauth-interceptors/core/revocation'
 *
 * const tokens = createTokenManager({
 *   grant: clientCredentials({ tokenUrl, revocationUrl, clientId, clientSecret }),
 *   revocation: revocation(),
 * })
 * process.on('SIGTERM', () => tokens.close({ revoke: true }))
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/revocation
 */
import { ConfigError, type RevocationError, TokenEndpointError } from './errors'
import { fingerprint } from './grants/fingerprint'
import {
  type Grant,
  type ManagerHost,
  type RevocationMethods,
  type RevocationSupport,
  resolveParams,
  type TokenRequest,
  type TokenTypeHint,
} from './grants/grants'
import { backoff, retryDelay } from './manager/retry'
import { asRevocationError, postRevocationRequest } from './manager/revocation'
import type { RevokeOptions, RevokeResult } from './manager/token-manager'
import { lazyRedactor, redactValue, requestSecrets } from './redact'
import type { Token } from './types'

export { RevocationError } from './errors'
export type { RevocationSupport } from './grants/grants'
export type { RevokeOptions, RevokeResult } from './manager/token-manager'

/** How many revoked refresh tokens a manager remembers, so that none is sent again. */
const REMEMBERED = 1_000

/**
 * The revocation support of a token manager (RFC 7009), for its `revocation` option. The
 * manager's grant needs a revocation endpoint: `revocationUrl`, or `issuer` whose metadata
 * names a `revocation_endpoint`.
 * @see https://www.rfc-editor.org/rfc/rfc7009
 * @example
 * const tokens = createTokenManager({ grant, revocation: revocation() })
 * await tokens.revoke()
 */
export function revocation(): RevocationSupport {
  return { attach }
}

function attach(host: ManagerHost): RevocationMethods {
  const { grant, settings, context } = host
  const build = revoker(grant)
  /**
   * Fingerprints (never the tokens) of revoked refresh tokens, so that none is sent again, e.g.
   * the one a `refreshTokenGrant` starts from when the server did not rotate it.
   */
  const revokedRefreshTokens = new Set<string>()

  /** One token to the revocation endpoint, retried with backoff while it fails transiently. */
  async function revokeOne(
    token: string,
    hint: TokenTypeHint,
    revoking: readonly (string | undefined)[],
  ): Promise<void> {
    const { retry, random, timers, deadline, now } = settings
    const known = () => [...host.knownSecrets(), ...revoking]
    const firstStart = now()
    for (let attempt = 1; ; attempt++) {
      let failure: RevocationError
      try {
        const request = await build(token, hint, context)
        host.endpoint(request.url)
        await postRevocationRequest(request, hint, known(), settings)
        return
      } catch (error) {
        // A configuration problem (no revocation endpoint in the metadata) is no failed attempt.
        if (error instanceof ConfigError) throw error
        failure = redactValue(asRevocationError(error, hint), lazyRedactor(known))
      }
      const delay = retry === false ? undefined : retryDelay(failure, attempt, retry, random)
      if (delay === undefined || now() - firstStart + delay > deadline) {
        if (attempt > 1) failure.message += ` (after ${attempt} attempts)`
        throw failure
      }
      await backoff(delay, timers)
    }
  }

  /** Revokes and drops the tokens of `keys`, refresh tokens first. */
  async function revokeKeys(keys: readonly string[], starting?: string): Promise<RevokeResult> {
    const { stats } = host
    const result: RevokeResult = { accessTokens: 0, refreshTokens: 0 }
    const done = new Set<string>()
    let firstFailure: RevocationError | undefined
    /** No endpoint to revoke at (metadata without one): no failed revocation, but every key is still dropped. */
    let unconfigured: ConfigError | undefined
    const revokeKey = async (key: string) => {
      const held: Token[] = []
      const token = host.held(key)
      if (token) held.push(token)
      host.drop(key)
      const shared = host.shared && (await host.shared.take(key))
      if (shared) held.push(shared)
      const refreshTokens = held.map((token) => token.refreshToken)
      if (key === host.defaultKey) refreshTokens.push(starting)
      const accessTokens = held.map((token) => token.accessToken)
      const revoking = [...refreshTokens, ...accessTokens]
      const revoked: TokenTypeHint[] = []
      const attempt = async (token: string | undefined, hint: TokenTypeHint) => {
        if (token === undefined || done.has(token)) return
        done.add(token)
        try {
          await revokeOne(token, hint, revoking)
          if (!revoked.includes(hint)) revoked.push(hint)
          if (hint === 'refresh_token') {
            revokedRefreshTokens.add(fingerprint(token))
            // Bounded: the oldest go first.
            if (revokedRefreshTokens.size > REMEMBERED) {
              revokedRefreshTokens.delete(revokedRefreshTokens.values().next().value as string)
            }
          }
          stats.revoked++
          if (hint === 'access_token') result.accessTokens++
          else result.refreshTokens++
        } catch (error) {
          if (error instanceof ConfigError) {
            unconfigured ??= error
            return
          }
          const failure = error as RevocationError
          firstFailure ??= failure
          stats.revocationsFailed++
          host.emit({ type: 'revocation_failed', key, token: hint, error: failure })
        }
      }
      // Refresh tokens first: revoking one may revoke its access tokens (RFC 7009 §2.1).
      for (const token of refreshTokens) await attempt(token, 'refresh_token')
      for (const token of accessTokens) await attempt(token, 'access_token')
      if (revoked.length > 0) host.emit({ type: 'token_revoked', key, tokens: revoked })
    }
    // One key after another: deterministic, and gentle on the server at shutdown.
    for (const key of keys) await revokeKey(key)
    if (unconfigured) throw unconfigured
    if (firstFailure) throw firstFailure
    return result
  }

  return {
    revoke(options?: RevokeOptions) {
      const one =
        options !== undefined &&
        (options.scope !== undefined ||
          options.audience !== undefined ||
          options.resource !== undefined)
      const { defaultKey } = host
      const keys = one ? [host.keyOf(resolveParams(options, grant.params))] : host.keys()
      // Another process may hold this manager's default token in the shared store.
      if (!one && host.shared && !keys.includes(defaultKey)) keys.push(defaultKey)
      // The refresh token a refreshTokenGrant starts from is every key's: revoked with all of them.
      const starting = one ? undefined : grant.startingRefreshToken?.()
      if (starting !== undefined && !keys.includes(defaultKey)) keys.unshift(defaultKey)
      return revokeKeys(keys, starting)
    },
    revokeKeys: (keys) => revokeKeys(keys),
    refuse(request: TokenRequest) {
      if (revokedRefreshTokens.size === 0) return
      for (const secret of requestSecrets(request)) {
        if (revokedRefreshTokens.has(fingerprint(secret))) {
          throw new TokenEndpointError(
            'The token request would carry a refresh token that revoke() revoked, so it was not sent; give the grant a new refresh token (a new manager)',
            'token_revoked',
          )
        }
      }
    },
  }
}

/** The grant's revocation request, or a ConfigError: the grant has no revocation endpoint. */
function revoker(grant: Grant): NonNullable<Grant['revoke']> {
  const revokeRequest = grant.revoke?.bind(grant)
  if (revokeRequest === undefined) {
    throw new ConfigError(
      'revocationUrl',
      `the ${grant.type} grant has no revocation endpoint, so its tokens cannot be revoked`,
      "Pass the server's revocation endpoint to the grant, e.g. revocationUrl: 'https://auth.example.com/oauth/revoke', or issuer: discover(url) when its metadata names one; or leave the revocation option out.",
    )
  }
  return revokeRequest
}
