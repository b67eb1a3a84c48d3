/**
 * User tokens for a backend-for-frontend, imported from `@oauth-interceptors/core/sessions`: a
 * BFF holds each signed-in user's access and refresh token server-side and calls APIs on their
 * behalf. `userTokens()` is the grant of such a manager: `setSession(id, tokens)` after the login
 * callback, `getToken({ session: id })` (or `tokenOptions: { session: id }` per request in every
 * adapter), `endSession(id)` at logout. Each session's token is refreshed with its own refresh
 * token, once at a time per session, and a refused refresh token ends the session with a
 * `LoginRequiredError`.
 *
 * @example
 * import { createTokenManager } from '@oauth-interceptors/core'
 * import { userTokens } from '@oauth-interceptors/core/sessions'
 *
 * const tokens = createTokenManager({
 *   grant: userTokens({ tokenUrl, clientId: 'bff', clientSecret }),
 * })
 * await tokens.setSession(sessionId, tokenResponseOfTheLogin)
 * const { accessToken } = await tokens.getToken({ session: sessionId })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/sessions
 */
import { ConfigError, isOAuthError, LoginRequiredError } from './errors'
import {
  ClientAuthentication,
  type ClientOptions,
  type Grant,
  issuerMember,
  issuerOf,
  type ManagerHost,
  parseStandardResponse,
  resolveParams,
  revocationOf,
  type SessionMethods,
  type SessionSupport,
} from './grants/grants'
import { sha256Base64url } from './hash'
import { abortable } from './manager/abortable'
import { LruMap, MemoryTokenStore } from './manager/memory-store'
import { bound } from './manager/store-protocol'
import { toToken } from './manager/token-response'
import type { Token } from './types'

export { LoginRequiredError } from './errors'

/** Session checks and errors, lent to the manager by the grant (so the main entry has none). */
const SESSIONS: SessionSupport = {
  hash(id, option) {
    if (typeof id !== 'string' || id === '') {
      return Promise.reject(
        new ConfigError(
          option,
          id === undefined ? 'the session id is missing' : 'expected a non-empty string',
          "A userTokens() grant holds one token set per session: pass its id, as getToken({ session: id }) or the adapter's tokenOptions: { session: id }.",
        ),
      )
    }
    return sha256Base64url(id)
  },
  check(options) {
    if (
      options?.scope !== undefined ||
      options?.audience !== undefined ||
      options?.resource !== undefined
    ) {
      throw new ConfigError(
        'scope',
        "a session's token has the scope, audience and resource of its login",
        'Leave scope, audience and resource out of getToken({ session }) and tokenOptions; ask for what you need at login.',
      )
    }
  },
  response(tokens) {
    if (tokens === null || typeof tokens !== 'object') {
      throw new ConfigError(
        'tokens',
        'expected the token response of the login',
        "Pass the token endpoint's JSON answer: { access_token, token_type, expires_in, refresh_token }.",
      )
    }
    return tokens as Record<string, unknown>
  },
  loginRequired(previous, refusal) {
    if (refusal !== undefined) {
      // Only the server's word ends a session; a network failure or a 5xx does not.
      if (!isOAuthError(refusal) || refusal.code !== 'invalid_grant') return undefined
      return new LoginRequiredError(
        "The server refused the session's refresh token (invalid_grant: expired, revoked or already used); send the user to log in again, then call setSession()",
        { cause: refusal },
      )
    }
    return new LoginRequiredError(
      previous === undefined
        ? 'The session has no tokens: it was never set, was ended, or was dropped from a full store; send the user to log in, then call setSession()'
        : "The session's access token expired and it has no refresh token; send the user to log in again, then call setSession()",
    )
  },
  store: (maxEntries) => new MemoryTokenStore({ maxEntries }),
  attach: (host) => sessionMethods(host),
}

/**
 * The session calls of one manager: each session id's cache key (which holds the id's hash),
 * and with a store given (maybe shared), each call reading its session there first.
 */
function sessionMethods(host: ManagerHost): SessionMethods {
  const { grant, settings, shared } = host
  /** Each session id's cache key, computed once per id. */
  const keys = new LruMap<string>(settings.cacheSize, 'cacheSize')
  /** Whether each session call reads its session from the store (one given, maybe shared). */
  const readsSessions = settings.store !== undefined
  /** The store reads of sessions under way, by key. */
  const reading = new Map<string, Promise<void>>()

  /** The cache key of session `id`: its SHA-256 with the grant's identity. */
  const keyOf = (id: unknown, option: string): string | Promise<string> => {
    const known = keys.get(id as string)
    if (known !== undefined) return known
    return SESSIONS.hash(id, option).then((hash) => {
      const key = host.keyOf({ ...grant.params, session: hash })
      keys.set(id as string, key)
      return key
    })
  }

  const serve = (key: string, signal: AbortSignal | undefined): Promise<Token> => {
    const params = grant.params
    if (!readsSessions) return host.serve(key, params, signal)
    if (signal?.aborted) return Promise.reject(signal.reason)
    // The call's signal bounds its wait for the store too; the read goes on for the others.
    const stored = signal ? abortable(read(key), signal) : read(key)
    return stored.then(() => host.serve(key, params, signal))
  }

  /**
   * With a shared store, the store holds the sessions: each call reads its session there first
   * (one read for the calls of a session at once), so a session that another process ended is
   * gone here too, and one it refreshed is taken as it is. A failing store leaves memory's copy.
   */
  const read = (key: string): Promise<void> => {
    let pending = reading.get(key)
    if (pending === undefined) {
      pending = answered(adoptStored(key), key).finally(() => reading.delete(key))
      reading.set(key, pending)
    }
    return pending
  }

  /**
   * `work`, or nothing once the manager's `timeout` passes: a store that does not answer counts
   * as failing (a `store_error` event), memory's copy serves, and the next call reads afresh.
   */
  const answered = (work: Promise<void>, key: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const { timers, timeout } = settings
      const timer = timers.setTimeout(() => {
        const error = new Error(`The store did not answer within ${timeout} ms`)
        host.emit({ type: 'store_error', key, operation: 'get', error })
        resolve()
      }, timeout)
      work.then(
        () => {
          timers.clearTimeout(timer)
          resolve()
        },
        (error: unknown) => {
          timers.clearTimeout(timer)
          reject(error)
        },
      )
    })

  const adoptStored = async (key: string): Promise<void> => {
    const read = await shared?.read(key)
    if (read === undefined) return
    const held = host.held(key)
    const stored = read.token
    if (stored === undefined) {
      // Ended by another process (or evicted from the store): no longer this process's either.
      host.drop(key)
      return
    }
    if (held?.accessToken === stored.accessToken) return
    const older =
      held?.expiresAt !== undefined &&
      (stored.expiresAt === undefined || stored.expiresAt < held.expiresAt)
    const binding = await settings.dpop?.thumbprint()
    if (!older && bound(stored, binding)) host.fromStore(key, stored, held ? 'expiring' : 'cold')
  }

  /** Ends the session of `key` in this process and the store. */
  const endHere = async (key: string): Promise<void> => {
    // A refresh of the session under way here ends first, so its token is dropped too;
    // one elsewhere stores its token before the store's lock lets the deletion through.
    await host.settle(key)
    host.drop(key)
    await shared?.remove(key)
  }

  return {
    get(options) {
      let key: string | Promise<string>
      try {
        key = keyOf(options?.session, 'session')
        SESSIONS.check(options)
      } catch (error) {
        return Promise.reject(error)
      }
      const signal = options?.signal
      if (typeof key === 'string') return serve(key, signal)
      return key.then((known) => serve(known, signal))
    },
    async set(id, tokens) {
      const key = await keyOf(id, 'setSession')
      const body = SESSIONS.response(tokens)
      const dpop = settings.dpop
      let token = toToken(body, host.tokenSettings, settings.now(), undefined)
      if (dpop && token.tokenType === 'DPoP') token = { ...token, jkt: await dpop.thumbprint() }
      host.drop(key)
      host.remember(key, token)
      await shared?.put(key, token)
      return token
    },
    async end(id, options) {
      const key = await keyOf(id, 'endSession')
      if (options?.revoke) {
        // As below: a refresh of the session under way here ends first, so its tokens are revoked too.
        await host.settle(key)
        try {
          await host.revokeKeys([key], 'endSession({ revoke: true })')
          return
        } catch (error) {
          // No revocation support given: the logout still ends the session, then says why it did not revoke.
          if (!(error instanceof ConfigError)) throw error
          await endHere(key)
          throw error
        }
      }
      await endHere(key)
    },
    clear: () => keys.clear(),
  }
}

/**
 * The grant of a manager that holds user sessions' tokens: the client that logged the users in
 * (its token endpoint, or `issuer`, its credentials and `clientAuth`), refreshing each session's
 * token with the session's refresh token (RFC 6749 §6). A session's tokens come from its login
 * through `setSession()`; there is nothing to obtain without one, so a session without a usable
 * token rejects with a `LoginRequiredError`, and so does one whose refresh token the server
 * refuses (`invalid_grant`), its tokens then dropped everywhere. Rotated refresh tokens replace
 * the old one (kept when the response has none). Sessions live in the manager's `store` (a
 * bounded in-memory one by default, `maxSessions`; Redis for several instances), keyed by the
 * SHA-256 of the session id, with the `cacheSize` most used in process memory.
 * @example
 * const tokens = createTokenManager({
 *   grant: userTokens({ issuer: discover('https://auth.example.com'), clientId: 'bff', clientSecret }),
 *   store: redisTokenStore({ client: redis }),
 * })
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export function userTokens(options: ClientOptions): Grant {
  const client = new ClientAuthentication(options, 'userTokens')
  const url = issuerOf(options) ? undefined : client.tokenUrl
  const params = resolveParams(options)
  return {
    type: 'user_session',
    tokenUrl: client.tokenUrl,
    ...issuerMember(options),
    identity: client.identity,
    params,
    reobtainAfterRefreshFailure: false,
    sessions: SESSIONS,
    // The manager asks only with a refresh token; a session without one needs a login.
    obtain: () => {
      throw new Error('A user session is obtained by logging in, then setSession()')
    },
    // The scope of the login stays: RFC 6749 §6 keeps it when the request leaves it out.
    refresh: (refreshToken, _params, context) =>
      client.request(
        url,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        {},
        context,
      ),
    parse: parseStandardResponse,
    secrets: () => client.secrets(),
    ...revocationOf(options, client),
    fetch: client.fetch,
  }
}
