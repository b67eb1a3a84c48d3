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
import {
  ClientAuthentication,
  type ClientOptions,
  type Grant,
  issuerMember,
  issuerOf,
  parseStandardResponse,
  resolveParams,
  revocationOf,
} from './grants/grants'

export { LoginRequiredError } from './errors'

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
    sessions: true,
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
  }
}
