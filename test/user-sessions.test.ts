import {
  createTokenManager,
  isOAuthInterceptorsError,
  LoginRequiredError,
  type OAuthInterceptorsError,
  type TokenManager,
} from '@oauth-interceptors/core'
import { revocation } from '@oauth-interceptors/core/revocation'
import { userTokens } from '@oauth-interceptors/core/sessions'
import {
  type AuthorizationServer,
  basicCredentials,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
  WEB_CLIENT,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ClientRow, rows } from './support/conformance-clients'

// A BFF's user sessions against oidc-provider: real authorization-code logins (PKCE, the login
// and consent interaction driven as a browser would), refresh tokens that rotate on every use
// (a refresh token used twice is invalid_grant), and an API that checks JWT access tokens with
// a deny-list (oidc-provider revokes a whole grant, refresh token included, when one of its
// access tokens is revoked, so the API is where an access token alone stops working).
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

let as: AuthorizationServer
let api: ResourceServer

beforeAll(async () => {
  as = await startAuthorizationServer({ logins: true, accessTokenTTL: 300 })
  api = await startResourceServer(as, { resource: RESOURCES.jwt, record: true })
})
afterAll(async () => {
  await api?.close()
  await as?.close()
})
beforeEach(() => {
  api.reset()
})

function bff(): TokenManager {
  return createTokenManager({
    grant: userTokens({
      tokenUrl: as.tokenUrl,
      revocationUrl: as.revocationUrl,
      clientId: WEB_CLIENT.clientId,
      clientSecret: WEB_CLIENT.clientSecret,
    }),
    revocation: revocation(),
  })
}

/** Logs `user` in and keeps the tokens as the session `session` of `tokens`. */
async function signIn(
  tokens: TokenManager,
  session: string,
  user: string,
  resource: string = RESOURCES.jwt,
) {
  const answer = await as.login(user, resource)
  await tokens.setSession(session, answer)
  return { accessToken: String(answer.access_token), refreshToken: String(answer.refresh_token) }
}

/** The refresh-token requests the server received from now on, and how it answered them. */
function refreshes() {
  const start = as.tokenRequests.length
  return () =>
    as.tokenRequests
      .slice(start)
      .filter((request) => request.grantType === 'refresh_token')
      .map((request) => request.error ?? request.status)
}

async function introspect(token: string): Promise<boolean> {
  const response = await fetch(as.introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: basicCredentials(as.introspectionClient),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  })
  return ((await response.json()) as { active: boolean }).active
}

/** The token each request to `path` carried, in order. */
const carried = (path: string) =>
  api.requests
    .filter((request) => request.path === path)
    .map((request) => request.headers.authorization)

/** The library error a client rejected with, itself or as a cause (ofetch wraps it). */
function libraryError(error: unknown): OAuthInterceptorsError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isOAuthInterceptorsError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const client = (row: ClientRow, manager: TokenManager) =>
  row.create({ manager, origins: new URL(api.url).origin }, { baseUrl: api.url })

describe.each(rows)('$name: user sessions against oidc-provider', (row) => {
  it("sends each user's requests with their own token, and refreshes a revoked one once for 50 concurrent requests, rotating its refresh token", async () => {
    const tokens = bff()
    const alice = await signIn(tokens, 'session-alice', 'alice')
    const bob = await signIn(tokens, 'session-bob', 'bob')
    const api_ = client(row, tokens)
    const send = (session: string, path: string) => api_.send({ path, tokenOptions: { session } })

    await Promise.all([send('session-alice', '/alice'), send('session-bob', '/bob')])
    expect(carried('/alice')).toEqual([`Bearer ${alice.accessToken}`])
    expect(carried('/bob')).toEqual([`Bearer ${bob.accessToken}`])

    // The API stops taking Alice's access token: her 50 requests make one refresh; Bob is untouched.
    api.deny(alice.accessToken)
    let refreshed = refreshes()
    const replies = await Promise.all([
      ...Array.from({ length: 50 }, () => send('session-alice', '/alice/orders')),
      send('session-bob', '/bob/orders'),
    ])
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
    expect(refreshed()).toEqual([200])
    const renewed = (await tokens.getToken({ session: 'session-alice' })).accessToken
    expect(renewed).not.toBe(alice.accessToken)
    expect(new Set(carried('/alice/orders'))).toEqual(
      new Set([`Bearer ${alice.accessToken}`, `Bearer ${renewed}`]),
    )
    expect(carried('/alice/orders').filter((sent) => sent === `Bearer ${renewed}`)).toHaveLength(50)
    expect(carried('/bob/orders')).toEqual([`Bearer ${bob.accessToken}`])

    // Refused again: the next refresh must carry the rotated refresh token (the first one was
    // used: the server would answer invalid_grant and end Alice's grant).
    api.deny(renewed)
    refreshed = refreshes()
    expect((await send('session-alice', '/alice/again')).status).toBe(200)
    expect(refreshed()).toEqual([200])
  })

  it('ends a session whose refresh token the server refuses: LoginRequiredError, and nothing sent after', async () => {
    const tokens = bff()
    const alice = await signIn(tokens, 'session-alice', 'alice')
    // Revoking the refresh token ends the grant at the server; the API refuses the access token.
    await as.revoke(alice.refreshToken, WEB_CLIENT, 'refresh_token')
    api.deny(alice.accessToken)
    const refreshed = refreshes()
    const api_ = client(row, tokens)

    const failures = await Promise.all(
      Array.from({ length: 10 }, () =>
        api_.send({ path: '/alice/me', tokenOptions: { session: 'session-alice' } }).then(
          () => undefined,
          (error: unknown) => libraryError(error),
        ),
      ),
    )

    expect(refreshed()).toEqual(['invalid_grant'])
    for (const failure of failures) expect(failure).toBeInstanceOf(LoginRequiredError)
    expect(String(failures[0])).not.toContain(alice.refreshToken)
    await expect(tokens.getToken({ session: 'session-alice' })).rejects.toBeInstanceOf(
      LoginRequiredError,
    )
    expect(refreshed()).toEqual(['invalid_grant'])
    // The API saw the revoked token once per request at most, and nothing afterwards.
    expect(carried('/alice/me').length).toBeLessThanOrEqual(10)
  })
})

describe('revoking user sessions (RFC 7009)', () => {
  it("endSession(id, { revoke: true }) revokes that session's tokens only, and the session is gone", async () => {
    const tokens = bff()
    const alice = await signIn(tokens, 'session-alice', 'alice', RESOURCES.opaque)
    const bob = await signIn(tokens, 'session-bob', 'bob', RESOURCES.opaque)

    await tokens.endSession('session-alice', { revoke: true })

    expect(await introspect(alice.refreshToken)).toBe(false)
    expect(await introspect(alice.accessToken)).toBe(false)
    expect(await introspect(bob.refreshToken)).toBe(true)
    expect(await introspect(bob.accessToken)).toBe(true)
    await expect(tokens.getToken({ session: 'session-alice' })).rejects.toBeInstanceOf(
      LoginRequiredError,
    )
    expect((await tokens.getToken({ session: 'session-bob' })).accessToken).toBe(bob.accessToken)
  })

  it("revoke() revokes each session's refresh and access token at the server", async () => {
    const tokens = bff()
    // Opaque access tokens, which introspection reports on.
    const alice = await signIn(tokens, 'session-alice', 'alice', RESOURCES.opaque)
    const bob = await signIn(tokens, 'session-bob', 'bob', RESOURCES.opaque)
    for (const token of [alice, bob].flatMap((t) => [t.accessToken, t.refreshToken])) {
      expect(await introspect(token)).toBe(true)
    }

    await expect(tokens.revoke()).resolves.toEqual({ accessTokens: 2, refreshTokens: 2 })

    for (const token of [alice, bob].flatMap((t) => [t.accessToken, t.refreshToken])) {
      expect(await introspect(token)).toBe(false)
    }
  })
})
