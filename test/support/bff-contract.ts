import type { UserLoginServer } from '@oauth-interceptors/demo-servers'
import { beforeEach, expect, it } from 'vitest'

/**
 * What every framework example's BFF does with per-user tokens, driven as a browser would: the
 * login (`/login` → the authorization endpoint → `/callback`), calls of `/me/orders` with the
 * session cookie, and `/logout`. Each test asserts what the upstream API and the token endpoint
 * received.
 */
export interface BffUnderTest {
  /** The BFF's origin, `http://127.0.0.1:<port>`. */
  url: string
  login: UserLoginServer
}

/** The session cookie a browser got from logging `user` in through the BFF. */
export async function logIn(bff: string, user: string): Promise<string> {
  const login = await fetch(`${bff}/login`, { redirect: 'manual' })
  expect(login.status).toBeGreaterThanOrEqual(300)
  expect(login.status).toBeLessThan(400)
  const authorize = new URL(login.headers.get('location') ?? '')
  // The user signs in at the authorization server; this one approves `login_hint` at once.
  authorize.searchParams.set('login_hint', user)
  const approved = await fetch(authorize, { redirect: 'manual' })
  const callback = approved.headers.get('location') ?? ''
  expect(callback.startsWith(`${bff}/callback?`)).toBe(true)

  const done = await fetch(callback, {
    redirect: 'manual',
    headers: { cookie: cookiesOf(login) },
  })
  expect(done.status, await done.clone().text()).toBeGreaterThanOrEqual(300)
  expect(done.status).toBeLessThan(400)
  const session = done.headers.getSetCookie().find((value) => value.startsWith('sid='))
  expect(session).toMatch(/HttpOnly/i)
  return (session ?? '').split(';')[0] as string
}

/** The `name=value` pairs a response set, as a `Cookie` request header. */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((value) => value.split(';')[0])
    .join('; ')
}

/** The latest token set the server issued to `user`. */
export function tokensOf(login: UserLoginServer, user: string) {
  const set = login.issued.filter((issued) => issued.user === user).at(-1)
  if (!set) throw new Error(`no token issued to ${user}`)
  return set
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Registers the contract's tests; `app()` is read in each test (after beforeAll). */
export function bffContract(app: () => BffUnderTest): void {
  beforeEach(() => {
    app().login.clearRecords()
  })

  it('logs a user in with one authorization-code exchange at the token endpoint, and keeps the tokens out of the browser', async () => {
    const { url, login } = app()

    const cookie = await logIn(url, 'alice')

    expect(login.tokenRequests).toHaveLength(1)
    const [exchange] = login.tokenRequests
    expect(exchange?.form).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: `${url}/callback`,
    })
    expect(exchange?.form.code).toMatch(/^[\w-]{20,}$/)
    expect(exchange?.headers.authorization).toMatch(/^Basic /)
    const { accessToken, refreshToken } = tokensOf(login, 'alice')
    expect(cookie).not.toContain(accessToken)
    expect(cookie).not.toContain(refreshToken)
  })

  it("calls the upstream API with each session's own token, and without the browser's cookie", async () => {
    const { url, login } = app()
    const alice = await logIn(url, 'alice')
    const bob = await logIn(url, 'bob')
    login.clearRecords()

    const [forAlice, forBob] = await Promise.all([
      fetch(`${url}/me/orders?status=open`, { headers: { cookie: alice } }),
      fetch(`${url}/me/orders?status=open`, { headers: { cookie: bob } }),
    ])

    expect(forAlice.status).toBe(200)
    expect(await forAlice.json()).toMatchObject({ user: 'alice', path: '/orders?status=open' })
    expect(forBob.status).toBe(200)
    expect(await forBob.json()).toMatchObject({ user: 'bob', path: '/orders?status=open' })
    const sent = login.apiRequests.map((request) => request.headers.authorization).sort()
    expect(sent).toEqual(
      [
        `Bearer ${tokensOf(login, 'alice').accessToken}`,
        `Bearer ${tokensOf(login, 'bob').accessToken}`,
      ].sort(),
    )
    for (const request of login.apiRequests) expect(request.headers.cookie).toBeUndefined()
    expect(login.tokenRequests).toHaveLength(0)
  })

  it('refreshes each session once, with its own refresh token, for 10 concurrent calls after a 401', async () => {
    const { url, login } = app()
    const alice = await logIn(url, 'alice')
    const bob = await logIn(url, 'bob')
    const before = { alice: tokensOf(login, 'alice'), bob: tokensOf(login, 'bob') }
    login.clearRecords()
    login.expireAccessTokens()

    const replies = await Promise.all(
      range(20).map((i) => fetch(`${url}/me/orders`, { headers: { cookie: i % 2 ? bob : alice } })),
    )

    expect(replies.map((reply) => reply.status)).toEqual(range(20).map(() => 200))
    expect(login.tokenRequests).toHaveLength(2)
    expect(login.refreshes().sort((a, b) => String(a.user).localeCompare(String(b.user)))).toEqual([
      { user: 'alice', refreshToken: before.alice.refreshToken },
      { user: 'bob', refreshToken: before.bob.refreshToken },
    ])
    // A call is sent with its session's expired token (unless the new one came first), then
    // with the new one: 20 calls through with the 2 new tokens, all else the old ones.
    const old = [before.alice.accessToken, before.bob.accessToken].map((token) => `Bearer ${token}`)
    const sent = login.apiRequests.map((request) => request.headers.authorization)
    expect(sent.filter((header) => !old.includes(String(header))).sort()).toEqual(
      [
        ...range(10).map(() => `Bearer ${tokensOf(login, 'alice').accessToken}`),
        ...range(10).map(() => `Bearer ${tokensOf(login, 'bob').accessToken}`),
      ].sort(),
    )
    expect(sent.filter((header) => old.includes(String(header))).length).toBeGreaterThan(1)
  })

  it('answers 401 login_required without a session, and sends nothing upstream', async () => {
    const { url, login } = app()

    const anonymous = await fetch(`${url}/me/orders`)
    const unknown = await fetch(`${url}/me/orders`, { headers: { cookie: 'sid=not-a-session' } })

    for (const reply of [anonymous, unknown]) {
      expect(reply.status).toBe(401)
      expect(await reply.json()).toMatchObject({ error: 'login_required' })
    }
    expect(login.apiRequests).toHaveLength(0)
    expect(login.tokenRequests).toHaveLength(0)
  })

  it('answers 401 login_required once the refresh token is refused, after one refresh attempt for 5 concurrent calls', async () => {
    const { url, login } = app()
    const carol = await logIn(url, 'carol')
    login.clearRecords()
    login.expireAccessTokens()
    login.revokeRefreshTokens()

    const replies = await Promise.all(
      range(5).map(() => fetch(`${url}/me/orders`, { headers: { cookie: carol } })),
    )
    const later = await fetch(`${url}/me/orders`, { headers: { cookie: carol } })

    for (const reply of [...replies, later]) {
      expect(reply.status).toBe(401)
      expect(await reply.json()).toMatchObject({ error: 'login_required' })
    }
    // The refused refresh token is sent once, then the session's tokens are gone.
    expect(login.refreshes()).toEqual([
      { user: 'carol', refreshToken: tokensOf(login, 'carol').refreshToken },
    ])
  })

  it('ends the session at logout', async () => {
    const { url, login } = app()
    const dave = await logIn(url, 'dave')
    expect((await fetch(`${url}/me/orders`, { headers: { cookie: dave } })).status).toBe(200)
    login.clearRecords()

    const logout = await fetch(`${url}/logout`, { method: 'POST', headers: { cookie: dave } })
    const after = await fetch(`${url}/me/orders`, { headers: { cookie: dave } })

    expect(logout.status).toBeLessThan(400)
    expect(after.status).toBe(401)
    expect(login.apiRequests).toHaveLength(0)
    expect(login.tokenRequests).toHaveLength(0)
  })

  it('refuses a callback whose state does not match, without a token request', async () => {
    const { url, login } = app()
    const started = await fetch(`${url}/login`, { redirect: 'manual' })
    const approved = await fetch(started.headers.get('location') ?? '', { redirect: 'manual' })

    // The callback, but from a browser that did not start this login (no state cookie).
    const forged = await fetch(approved.headers.get('location') ?? '', { redirect: 'manual' })

    expect(forged.status).toBe(400)
    expect(forged.headers.getSetCookie().join()).not.toContain('sid=')
    expect(login.tokenRequests).toHaveLength(0)
  })
}
