import { once as once_ } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { inspect } from 'node:util'
import {
  type AuthConfig,
  clientCredentials,
  createTokenManager,
  isOAuthError,
  isOAuthInterceptorsError,
  type OAuthInterceptorsError,
  type RequestPolicyOptions,
  type TokenManagerOptions,
} from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import { tokenExchange } from '@oauth-interceptors/core/token-exchange'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  BODIES,
  type BodyKind,
  type ClientRow,
  type Reply,
  rows,
} from './support/conformance-clients'
import {
  type Answer,
  CLIENT_SECRET,
  redirectPath,
  type Seen,
  startWorld,
  type World,
} from './support/conformance-servers'

// One suite, every client: each behaviour of DESIGN.md's request pipeline runs through every
// row of `rows`, against real servers, and asserts what was *sent*.

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(() => world.close())

// Each test has its own OAuth client, so token requests are counted per test.
let clientId = ''
let serial = 0
beforeEach(() => {
  world.reset()
  clientId = `client-${++serial}`
})

/** The `n`-th token the token endpoint issued to this test's client. */
const token = (n: number) => `${clientId}.${n}`
/** How many token requests this test's client made. */
const tokenRequests = () => world.tokens.requestsOf(clientId).length
/** The token header values the API received for `path`, in order. */
const authorizations = (path: string, header = 'authorization') =>
  world.api.hits(path).map((request) => request.headers[header])
/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once_(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
const range = (count: number) => Array.from({ length: count }, (_, index) => index)

/**
 * A manager for this test's client. Token requests time out after 1 s and are retried twice
 * after 1–5 ms (core's default count, with short delays) to keep the suite fast.
 */
function manager(options: Partial<TokenManagerOptions> & { clientSecret?: string } = {}) {
  const { clientSecret = CLIENT_SECRET, ...rest } = options
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: world.tokens.tokenUrl, clientId, clientSecret }),
    timeout: 1_000,
    retry: { retries: 2, minDelay: 1, maxDelay: 5 },
    ...rest,
  })
}

/** Answers the first request with `answer`, and every later one as the server does by default. */
function once(answer: Answer): () => Answer | undefined {
  let answered = false
  return () => {
    if (answered) return undefined
    answered = true
    return answer
  }
}

/** A body with its multipart boundary (random per send) replaced, so two sends compare equal. */
function normalised({ body, headers }: Seen): { contentType: unknown; body: string } {
  const contentType = headers['content-type'] ?? ''
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1]
  const replace = (text: string) => (boundary ? text.split(boundary).join('BOUNDARY') : text)
  return { contentType: replace(contentType), body: replace(body) }
}

type Outcome = { reply: Reply; error?: never } | { error: unknown; reply?: never }

/** How `call` settled; `'pending'` if it had not after `ms`. */
function within(ms: number, call: Promise<Outcome>): Promise<Outcome | 'pending'> {
  return Promise.race([call, new Promise<'pending'>((done) => setTimeout(done, ms, 'pending'))])
}
const settle = (call: Promise<Reply>): Promise<Outcome> =>
  call.then(
    (reply) => ({ reply }),
    (error: unknown) => ({ error }),
  )

/** The library error a client rejected with, itself or as a cause (clients may wrap it). */
function libraryError(error: unknown): OAuthInterceptorsError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isOAuthInterceptorsError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

describe.each(rows)('$name', (row: ClientRow) => {
  /** This row's client of the API, with a fresh manager and `policy`. */
  const client = (policy: RequestPolicyOptions = {}, config: Partial<AuthConfig> = {}) =>
    row.create({ manager: manager(), ...policy, ...config } as AuthConfig, {
      baseUrl: world.api.origin,
    })
  /** A client that already holds token 1, which the API then stops accepting. */
  const clientWithRevokedToken = async (policy: RequestPolicyOptions = {}) => {
    const api = client(policy)
    expect((await api.send({ path: '/warm-up' })).status).toBe(200)
    world.revokeAll()
    return api
  }

  describe('origins', () => {
    it("sends the token to the client's base URL origin by default", async () => {
      const reply = await client().send({ path: '/me' })

      expect(reply.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`])
    })

    it('never sends the token to another origin', async () => {
      const reply = await client().send({ url: world.foreign.url('/elsewhere') })

      expect(reply.status).toBe(200)
      expect(world.foreign.hits('/elsewhere')).toHaveLength(1)
      expect(world.foreign.hits('/elsewhere')[0]?.headers.authorization).toBeUndefined()
      expect(tokenRequests()).toBe(0)
    })

    it('never sends the token to the token endpoint itself, even with origins "*"', async () => {
      const api = client({ origins: '*' })

      await api.send({ method: 'POST', url: world.tokens.tokenUrl, body: 'params' })

      expect(world.tokens.seen).toHaveLength(1)
      expect(world.tokens.seen[0]?.headers.authorization).toBeUndefined()
      expect(tokenRequests()).toBe(0)
    })

    it('sends neither the token nor the static headers with skipAuth: true', async () => {
      const api = client({ headers: { 'x-api-key': 'k' } })

      const reply = await api.send({ path: '/public', skipAuth: true })

      expect(reply).toMatchObject({ status: 401, asError: row.throwsHttpErrors })
      expect(world.api.hits('/public')).toHaveLength(1)
      expect(world.api.hits('/public')[0]?.headers).not.toHaveProperty('authorization')
      expect(world.api.hits('/public')[0]?.headers).not.toHaveProperty('x-api-key')
      expect(tokenRequests()).toBe(0)
    })
  })

  describe('header modes', () => {
    it('writes "Authorization: Bearer <token>" by default', async () => {
      await client().send({ path: '/me' })

      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`])
    })

    it('writes the raw token with scheme: false', async () => {
      await client({ scheme: false }).send({ path: '/me' })

      expect(authorizations('/me')).toEqual([token(1)])
    })

    it("writes the token in a custom header with header: 'x-access-token'", async () => {
      const reply = await client({ header: 'x-access-token', scheme: false }).send({ path: '/me' })

      expect(reply.status).toBe(200)
      expect(authorizations('/me', 'x-access-token')).toEqual([token(1)])
      expect(authorizations('/me')).toEqual([undefined])
    })

    it('sends static headers with the token, and only to allowed origins', async () => {
      const api = client({ headers: { 'x-api-key': 'k' } })

      await api.send({ path: '/me' })
      await api.send({ url: world.foreign.url('/elsewhere') })

      expect(world.api.hits('/me')[0]?.headers).toMatchObject({
        authorization: `Bearer ${token(1)}`,
        'x-api-key': 'k',
      })
      expect(world.foreign.hits('/elsewhere')[0]?.headers).not.toHaveProperty('x-api-key')
      expect(world.foreign.hits('/elsewhere')[0]?.headers).not.toHaveProperty('authorization')
    })
  })

  describe('a cold cache', () => {
    it('makes exactly 1 token request for 50 concurrent requests', async () => {
      const api = client()

      const replies = await Promise.all(range(50).map((i) => api.send({ path: `/items/${i}` })))

      expect(replies.map((reply) => reply.status)).toEqual(range(50).map(() => 200))
      expect(tokenRequests()).toBe(1)
      for (const i of range(50))
        expect(authorizations(`/items/${i}`)).toEqual([`Bearer ${token(1)}`])
    })
  })

  describe('per-request tokenOptions', () => {
    /** A client whose manager exchanges each request's subject token (RFC 8693). */
    const exchangingClient = () =>
      row.create(
        {
          grant: tokenExchange({
            tokenUrl: world.tokens.tokenUrl,
            clientId,
            clientSecret: CLIENT_SECRET,
          }),
          timeout: 1_000,
        },
        { baseUrl: world.api.origin },
      )
    const subjects = () =>
      world.tokens
        .requestsOf(clientId)
        .map((seen) => new URLSearchParams(seen.body).get('subject_token'))

    it("exchanges each request's subject token once, and sends each request the token of its own subject", async () => {
      const api = exchangingClient()

      const replies = await Promise.all(
        range(20).map((i) =>
          api.send({
            path: `/items/${i}`,
            tokenOptions: { subjectToken: i % 2 ? 'user-b' : 'user-a' },
          }),
        ),
      )

      expect(replies.map((reply) => reply.status)).toEqual(range(20).map(() => 200))
      expect(subjects().sort()).toEqual(['user-a', 'user-b'])
      const tokenOf = (subject: string) => `Bearer ${token(subjects().indexOf(subject) + 1)}`
      for (const i of range(20))
        expect(authorizations(`/items/${i}`)).toEqual([tokenOf(i % 2 ? 'user-b' : 'user-a')])
    })

    it('retries a rejected exchanged token once with a new exchange of the same subject', async () => {
      const api = exchangingClient()
      await api.send({ path: '/warm-up', tokenOptions: { subjectToken: 'user-a' } })
      world.revokeAll()

      const reply = await api.send({ path: '/me', tokenOptions: { subjectToken: 'user-a' } })

      expect(reply.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
      expect(subjects()).toEqual(['user-a', 'user-a'])
    })

    it('rejects a request without a subject token with a ConfigError naming subjectToken, sending nothing', async () => {
      const error = await exchangingClient()
        .send({ path: '/me' })
        .then(
          () => undefined,
          (error: unknown) => error,
        )

      expect(libraryError(error)).toMatchObject({ code: 'invalid_config', option: 'subjectToken' })
      expect(world.api.hits('/me')).toHaveLength(0)
      expect(tokenRequests()).toBe(0)
    })

    /** A BFF's client: a manager of user sessions, each logged in with a token of the server. */
    const sessionClient = async (sessions: string[]) => {
      const manager = createTokenManager({
        grant: userTokens({
          tokenUrl: world.tokens.tokenUrl,
          clientId,
          clientSecret: CLIENT_SECRET,
        }),
        timeout: 1_000,
      })
      for (const session of sessions) {
        // What the login callback gets: the server's token, and a refresh token.
        const login = await fetch(world.tokens.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: clientId,
            client_secret: CLIENT_SECRET,
          }),
        })
        await manager.setSession(session, {
          ...(await login.json()),
          refresh_token: `rt-of-${session}`,
        })
      }
      return row.create({ manager }, { baseUrl: world.api.origin })
    }
    const refreshTokensSent = () =>
      world.tokens
        .requestsOf(clientId)
        .map((seen) => new URLSearchParams(seen.body).get('refresh_token'))
        .filter((sent) => sent !== null)

    it("sends each request its session's token, and refreshes each rejected session once with its own refresh token", async () => {
      const api = await sessionClient(['session-a', 'session-b'])
      world.revokeAll()

      const replies = await Promise.all(
        range(20).map((i) =>
          api.send({
            path: `/items/${i}`,
            tokenOptions: { session: i % 2 ? 'session-b' : 'session-a' },
          }),
        ),
      )

      expect(replies.map((reply) => reply.status)).toEqual(range(20).map(() => 200))
      expect(refreshTokensSent().sort()).toEqual(['rt-of-session-a', 'rt-of-session-b'])
      const refreshed = (session: string) =>
        `Bearer ${token(refreshTokensSent().indexOf(`rt-of-${session}`) + 3)}`
      for (const i of range(20)) {
        const sent = authorizations(`/items/${i}`)
        expect(sent).toHaveLength(2)
        expect(sent[1]).toBe(refreshed(i % 2 ? 'session-b' : 'session-a'))
      }
    })

    it('rejects a request without its session with a ConfigError naming session, sending nothing', async () => {
      const api = await sessionClient(['session-a'])
      const error = await api.send({ path: '/me' }).then(
        () => undefined,
        (error: unknown) => error,
      )

      expect(libraryError(error)).toMatchObject({ code: 'invalid_config', option: 'session' })
      expect(world.api.hits('/me')).toHaveLength(0)
      expect(refreshTokensSent()).toEqual([])
    })

    it("asks for the request's own scope with a client-credentials manager", async () => {
      const api = client()

      await api.send({ path: '/me', tokenOptions: { scope: 'orders:read' } })
      await api.send({ path: '/me' })

      const scopes = world.tokens
        .requestsOf(clientId)
        .map((seen) => new URLSearchParams(seen.body).get('scope'))
      expect(scopes).toEqual(['orders:read', null])
    })
  })

  describe('a rejected token', () => {
    it('retries a request whose token was revoked exactly once, with a new token', async () => {
      const api = await clientWithRevokedToken()

      const reply = await api.send({ path: '/me' })

      expect(reply.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
      expect(tokenRequests()).toBe(2)
    })

    it('makes exactly 1 new token request for 50 concurrent 401s, and sends each request twice', async () => {
      const api = await clientWithRevokedToken()

      const replies = await Promise.all(range(50).map((i) => api.send({ path: `/items/${i}` })))

      expect(replies.map((reply) => reply.status)).toEqual(range(50).map(() => 200))
      expect(tokenRequests()).toBe(2)
      for (const i of range(50)) expect(authorizations(`/items/${i}`)).toHaveLength(2)
      for (const i of range(50)) expect(authorizations(`/items/${i}`)[1]).toBe(`Bearer ${token(2)}`)
    })

    it('sends a request exactly twice when the 401 persists, then surfaces it as the client does', async () => {
      const api = client()
      world.api.answer(() => ({
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        body: { error: 'invalid_token' },
      }))

      const reply = await api.send({ path: '/me' })

      expect(reply).toMatchObject({ status: 401, asError: row.throwsHttpErrors })
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
      expect(tokenRequests()).toBe(2)
    })

    it('does not refresh on a 403', async () => {
      const api = client()
      world.api.answer(() => ({ status: 403, body: { error: 'insufficient_scope' } }))

      const reply = await api.send({ path: '/me' })

      expect(reply).toMatchObject({ status: 403, asError: row.throwsHttpErrors })
      expect(world.api.hits('/me')).toHaveLength(1)
      expect(tokenRequests()).toBe(1)
    })

    it('recognises "Token-Expired: true" (here on a 400)', async () => {
      const api = client()
      world.api.answer(once({ status: 400, headers: { 'token-expired': 'true' } }))

      const reply = await api.send({ path: '/me' })

      expect(reply.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
    })

    it('recognises a "Bearer error=invalid_token" challenge (here on a 400)', async () => {
      const api = client()
      world.api.answer(
        once({ status: 400, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }),
      )

      const reply = await api.send({ path: '/me' })

      expect(reply.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
    })
  })

  describe('an API that rejects every token', () => {
    const rejectAll = () =>
      world.api.answer(() => ({
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        body: { error: 'invalid_token' },
      }))

    it('backs off: 50 sequential requests over 5 s make 4 token requests, and it recovers by itself', async () => {
      let now = 0
      const backoffs: unknown[] = []
      const tokens = manager({
        now: () => now,
        onEvent: (event) => event.type === 'rejection_backoff' && backoffs.push(event),
      })
      const api = client({}, { manager: tokens })
      rejectAll()

      for (const i of range(50)) {
        expect((await api.send({ path: `/items/${i}` })).status).toBe(401)
        now += 100
      }

      // 0 ms: token 1 rejected, token 2 rejected on the retry; 100 ms: back off for 1 s;
      // 1,100 ms: token 3 tried; 1,200 ms: back off for 2 s; 3,200 ms: token 4; then 4 s.
      expect(tokenRequests()).toBe(4)
      expect(authorizations('/items/0')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
      expect(authorizations('/items/5')).toEqual([`Bearer ${token(2)}`])
      expect(authorizations('/items/11')).toEqual([`Bearer ${token(2)}`, `Bearer ${token(3)}`])
      expect(authorizations('/items/40')).toEqual([`Bearer ${token(4)}`])
      expect(backoffs).toEqual([
        { type: 'rejection_backoff', key: expect.any(String), backoffs: 1, delay: 1_000 },
        { type: 'rejection_backoff', key: expect.any(String), backoffs: 2, delay: 2_000 },
        { type: 'rejection_backoff', key: expect.any(String), backoffs: 3, delay: 4_000 },
      ])
      expect(tokens.stats().rejectionBackoffs).toBe(3)

      // The API takes tokens again: the token kept is accepted, and the backoff is over, so a
      // revocation right after refreshes at once.
      world.api.answer(() => undefined)
      expect((await api.send({ path: '/back' })).status).toBe(200)
      world.revokeAll()
      expect((await api.send({ path: '/revoked' })).status).toBe(200)
      expect(authorizations('/revoked')).toEqual([`Bearer ${token(4)}`, `Bearer ${token(5)}`])
      expect(tokenRequests()).toBe(5)
    })

    it('makes at most 5 token requests for 50 sequential requests on the real clock', async () => {
      const api = client()
      rejectAll()

      for (const i of range(50)) await api.send({ path: `/items/${i}` })

      expect(tokenRequests()).toBeGreaterThanOrEqual(2)
      expect(tokenRequests()).toBeLessThanOrEqual(5)
      expect(world.api.hits('/items/49')).toHaveLength(1)
    })
  })

  describe('request bodies on the retry', () => {
    const replayable = (Object.keys(BODIES) as BodyKind[]).filter((kind) => kind !== 'stream')

    it.each(replayable)('replays a %s body identically on the retry', async (kind) => {
      const api = await clientWithRevokedToken()

      const reply = await api.send({ method: 'POST', path: '/upload', body: kind })

      expect(reply.status).toBe(200)
      const sent = world.api.hits('/upload')
      expect(sent.map((request) => [request.method, request.headers.authorization])).toEqual([
        ['POST', `Bearer ${token(1)}`],
        ['POST', `Bearer ${token(2)}`],
      ])
      expect(sent[0]?.body).toMatch(BODIES[kind].received)
      expect(normalised(sent[1] as Seen)).toEqual(normalised(sent[0] as Seen))
    })

    it('does not replay a ReadableStream body: the 401 surfaces after 1 send, and the next request gets a fresh token', async () => {
      const api = await clientWithRevokedToken()

      const reply = await api.send({ method: 'POST', path: '/upload', body: 'stream' })
      const next = await api.send({ path: '/me' })

      expect(reply).toMatchObject({ status: 401, asError: row.throwsHttpErrors })
      expect(world.api.hits('/upload')).toHaveLength(1)
      expect(world.api.hits('/upload')[0]?.body).toMatch(BODIES.stream.received)
      expect(next.status).toBe(200)
      expect(authorizations('/me')).toEqual([`Bearer ${token(2)}`])
      expect(tokenRequests()).toBe(2)
    })
  })

  describe('redirects', () => {
    const apiKey = { headers: { 'x-api-key': 'k' } }

    it('keeps the token on a same-origin 302', async () => {
      const reply = await client().send({ path: redirectPath('/final') })

      expect(reply.status).toBe(200)
      expect(authorizations('/final')).toEqual([`Bearer ${token(1)}`])
    })

    it('drops the token and the static headers on a redirect to a foreign origin', async () => {
      const reply = await client(apiKey).send({
        path: redirectPath(world.foreign.url('/landing')),
      })

      expect(reply.status).toBe(200)
      expect(world.api.hits('/redirect')[0]?.headers['x-api-key']).toBe('k')
      expect(world.foreign.hits('/landing')).toHaveLength(1)
      expect(world.foreign.hits('/landing')[0]?.headers).not.toHaveProperty('authorization')
      expect(world.foreign.hits('/landing')[0]?.headers).not.toHaveProperty('x-api-key')
    })

    it('drops a custom token header on a redirect to a foreign origin', async () => {
      const api = client({ header: 'x-access-token', scheme: false })

      const reply = await api.send({ path: redirectPath(world.foreign.url('/landing')) })

      expect(reply.status).toBe(200)
      expect(authorizations('/redirect', 'x-access-token')).toEqual([token(1)])
      expect(world.foreign.hits('/landing')).toHaveLength(1)
      expect(world.foreign.hits('/landing')[0]?.headers).not.toHaveProperty('x-access-token')
    })

    it.each([
      ['the token', {}],
      ['the token and static headers', apiKey],
    ])(
      'does not add %s again once a redirect chain passed a foreign origin (allowed → foreign → allowed)',
      async (_, policy) => {
        const api = client(policy)
        world.api.answer((request) => (request.url === '/final' ? { status: 200 } : undefined))
        const back = world.api.url('/final')

        const reply = await api.send({ path: redirectPath(world.foreign.url(redirectPath(back))) })

        expect(reply.status).toBe(200)
        expect(world.foreign.hits('/redirect')).toHaveLength(1)
        expect(world.api.hits('/final')).toHaveLength(1)
        expect(world.api.hits('/final')[0]?.headers).not.toHaveProperty('authorization')
        expect(world.api.hits('/final')[0]?.headers).not.toHaveProperty('x-api-key')
      },
    )

    it('resends the body on a 307 after a POST', async () => {
      const reply = await client().send({
        method: 'POST',
        path: redirectPath('/final', 307),
        body: 'json',
      })

      expect(reply.status).toBe(200)
      expect(world.api.hits('/final')).toMatchObject([
        { method: 'POST', body: '{"qty":2}', headers: { authorization: `Bearer ${token(1)}` } },
      ])
    })

    it('turns a 303 after a POST into a GET without a body', async () => {
      const reply = await client().send({
        method: 'POST',
        path: redirectPath('/final', 303),
        body: 'json',
      })

      expect(reply.status).toBe(200)
      expect(world.api.hits('/final')).toMatchObject([
        { method: 'GET', body: '', headers: { authorization: `Bearer ${token(1)}` } },
      ])
    })

    it('does not refresh on a 401 at the end of a redirect chain that left the allowed origins', async () => {
      const api = client()
      world.foreign.answer(() => ({ status: 401, headers: { 'www-authenticate': 'Bearer' } }))

      const reply = await api.send({ path: redirectPath(world.foreign.url('/denied')) })

      expect(reply).toMatchObject({ status: 401, asError: row.throwsHttpErrors })
      expect(world.api.hits('/redirect')).toHaveLength(1)
      expect(world.foreign.hits('/denied')).toHaveLength(1)
      expect(tokenRequests()).toBe(1)
    })
  })

  describe('abort', () => {
    it('rejects an aborted call promptly while the token request goes on for another caller', async () => {
      const api = client()
      const held = world.tokens.hold()
      const controller = new AbortController()
      const aborted = settle(api.send({ path: '/aborted', signal: controller.signal }))
      const other = settle(api.send({ path: '/other' }))
      await held.arrived

      controller.abort()
      const early = await within(500, aborted)
      held.release()
      const late = await within(2_000, other)

      expect(early).not.toBe('pending')
      expect(row.isAbort((early as Outcome).error)).toBe(true)
      expect(late).toMatchObject({ reply: { status: 200 } })
      expect(authorizations('/other')).toEqual([`Bearer ${token(1)}`])
      expect(world.api.hits('/aborted')).toHaveLength(0)
      expect(tokenRequests()).toBe(1)
    })
  })

  describe('client timeouts', () => {
    it("bounds the wait for a hung token endpoint by the client's own timeout (300 ms)", async () => {
      // The manager alone would wait 3 × 1 s (timeout and 2 retries) before it gives up.
      const api = client()
      world.tokens.mode = 'hang'
      const started = performance.now()

      const outcome = await within(2_000, settle(api.send({ path: '/slow', timeout: 300 })))

      expect(outcome).not.toBe('pending')
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(row.isTimeout((outcome as Outcome).error)).toBe(true)
      expect(world.api.hits('/slow')).toHaveLength(0)
    })
  })

  describe('token endpoint failures (client retry at its default)', () => {
    it('makes exactly 1 token request for a wrong secret, and the caller gets the OAuthError invalid_client', async () => {
      const api = row.create(
        { manager: manager({ clientSecret: 'wrong' }) },
        {
          baseUrl: world.api.origin,
        },
      )

      const outcome = await settle(api.send({ path: '/me' }))

      const error = libraryError(outcome.error)
      expect(isOAuthError(error)).toBe(true)
      expect(error?.code).toBe('invalid_client')
      expect(tokenRequests()).toBe(1)
      expect(world.api.hits('/me')).toHaveLength(0)
    })

    it('redacts the secret and the Basic credentials a token endpoint echoes, in every view of the error the caller gets', async () => {
      const wrong = 'wrong-secret-Qv81'
      const api = row.create(
        { manager: manager({ clientSecret: wrong }) },
        { baseUrl: world.api.origin },
      )

      const outcome = await settle(api.send({ path: '/me' }))

      expect(libraryError(outcome.error)?.message).toBe(
        `The token endpoint answered 401 invalid_client: no client ${clientId} with secret [redacted] (Basic [redacted])`,
      )
      const basic = Buffer.from(`${clientId}:${wrong}`).toString('base64')
      for (const view of [
        String(outcome.error),
        JSON.stringify(outcome.error),
        inspect(outcome.error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      ]) {
        expect(view).not.toContain(wrong)
        expect(view).not.toContain(basic)
      }
    })

    it("makes exactly 3 token requests for an endpoint that always answers 500 (core's 1 + 2 retries), never multiplied by the client's retries", async () => {
      const api = client()
      world.tokens.mode = 'always-500'

      const outcome = await settle(api.send({ path: '/me' }))

      expect(libraryError(outcome.error)).toMatchObject({
        name: 'TokenEndpointError',
        status: 500,
      })
      expect(tokenRequests()).toBe(3)
      expect(world.api.hits('/me')).toHaveLength(0)
    })

    it('never carries an access_token outside RFC 6750 b64token: invalid_response, the API never called, the token in no message', async () => {
      const api = client()
      const bad = 'abc def\r\nx-injected: 1'
      world.tokens.answer(() => ({
        status: 200,
        body: { access_token: bad, token_type: 'Bearer' },
      }))

      const outcome = await settle(api.send({ path: '/me' }))

      expect(libraryError(outcome.error)?.code).toBe('invalid_response')
      expect(world.api.hits('/me')).toHaveLength(0)
      expect(inspect(outcome.error, { depth: Number.POSITIVE_INFINITY })).not.toContain('abc def')
    })

    it('names the token endpoint origin and the cause of a network failure, never its path', async () => {
      const closed = await closedPort()
      const api = row.create(
        {
          manager: createTokenManager({
            grant: clientCredentials({
              tokenUrl: `http://127.0.0.1:${closed}/secret-tenant/oauth/token`,
              clientId,
              clientSecret: CLIENT_SECRET,
            }),
            retry: { retries: 0 },
          }),
        },
        { baseUrl: world.api.origin },
      )

      const outcome = await settle(api.send({ path: '/me' }))

      const message = libraryError(outcome.error)?.message ?? ''
      expect(message).toContain(`http://127.0.0.1:${closed}`)
      expect(message).toContain('ECONNREFUSED')
      expect(message).not.toContain('secret-tenant')
      expect(world.api.hits('/me')).toHaveLength(0)
    })

    it('gives up at the deadline across attempts, and the message says how many and how long', async () => {
      const api = row.create(
        {
          manager: manager({
            timeout: 150,
            deadline: 400,
            retry: { retries: 5, minDelay: 1, maxDelay: 5 },
          }),
        },
        { baseUrl: world.api.origin },
      )
      world.tokens.mode = 'hang'
      const started = performance.now()

      const outcome = await settle(api.send({ path: '/me' }))

      const elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(380)
      expect(elapsed).toBeLessThan(2_000)
      expect(libraryError(outcome.error)?.message).toMatch(
        /400 ms deadline after \d attempts? over [\d.]+ m?s/,
      )
      expect(tokenRequests()).toBeLessThanOrEqual(3)
    })

    it('honours Retry-After up to maxRetryAfter: the next call fails at once, without a token request', async () => {
      const api = row.create(
        { manager: manager({ maxRetryAfter: 60_000 }) },
        { baseUrl: world.api.origin },
      )
      world.tokens.answer(() => ({ status: 503, headers: { 'retry-after': '3600' }, body: 'busy' }))

      const first = libraryError((await settle(api.send({ path: '/a' }))).error)
      const second = libraryError((await settle(api.send({ path: '/b' }))).error)

      // The pause is capped at maxRetryAfter: the message says until when.
      expect(first?.message).toMatch(/asked to wait 3600 s; no new token request until \S+\)$/)
      const until = Date.parse(first?.message.match(/until (\S+)\)$/)?.[1] ?? '')
      expect(until - Date.now()).toBeLessThanOrEqual(60_000)
      expect(until - Date.now()).toBeGreaterThan(50_000)
      expect(second?.message).toMatch(/asked to wait/)
      expect(tokenRequests()).toBe(1)
      expect(world.api.seen).toHaveLength(0)
    })
  })

  describe('setup', () => {
    it('refuses an origins entry with a path, naming origins and the origin it probably meant', () => {
      expect(() => client({ origins: [`${world.api.origin}/v1`] })).toThrow(
        expect.objectContaining({ name: 'ConfigError', option: 'origins' }),
      )
      expect(() => client({ origins: [`${world.api.origin}/v1`] })).toThrow(
        `origins: ['${world.api.origin}']`,
      )
    })

    it('refuses an unset client secret, and says how to make a public client', () => {
      expect(() =>
        client({}, {
          manager: undefined,
          grant: clientCredentials({
            tokenUrl: world.tokens.tokenUrl,
            clientId,
            clientSecret: process.env.OAUTH_INTERCEPTORS_UNSET_SECRET,
          }),
        } as Partial<AuthConfig>),
      ).toThrow(/"clientSecret".*clientAuth: "none"/s)
    })

    it('keeps the token from the token endpoint however its URL is spelt, with origins "*"', async () => {
      const api = client({ origins: '*' })
      const spellings = [
        `${world.tokens.tokenUrl}/`,
        world.tokens.tokenUrl.replace('/oauth/token', '//oauth//token'),
        world.tokens.tokenUrl.replace('http://', 'HTTP://'),
      ]

      for (const url of spellings) await api.send({ method: 'POST', url, body: 'params' })

      expect(world.tokens.seen).toHaveLength(spellings.length)
      for (const request of world.tokens.seen) expect(request.headers.authorization).toBeUndefined()
      expect(tokenRequests()).toBe(0)
    })
  })
})

describe.each(rows.filter((row) => row.family === 'ky'))('$name with retry: 0', (row) => {
  it('still refreshes a rejected token and retries the request once', async () => {
    const api = row.create({ manager: manager() }, { baseUrl: world.api.origin })
    await api.send({ path: '/warm-up', retry: 0 })
    world.revokeAll()

    const reply = await api.send({ path: '/me', retry: 0 })

    expect(reply.status).toBe(200)
    expect(authorizations('/me')).toEqual([`Bearer ${token(1)}`, `Bearer ${token(2)}`])
    expect(tokenRequests()).toBe(2)
  })
})
