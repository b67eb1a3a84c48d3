import { inspect } from 'node:util'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { createRequestPolicy, fetchWithCredentials } from '../src/adapter'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  LoginRequiredError,
  MemoryTokenStore,
  type Token,
  type TokenEvent,
  type TokenManagerOptions,
  type TokenStore,
} from '../src/index'
import { revocation } from '../src/revocation'
import { userTokens } from '../src/sessions'
import { sharedStore } from '../src/store'
import { manualClock, type SeenRequest, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const API = 'https://api.example.test'
const CLIENT = { tokenUrl: TOKEN_URL, clientId: 'bff', clientSecret: 'bff-secret-3c9e1f' }
/** Session ids are cookie values: as secret as the tokens. */
const ALICE = 'sess-alice-7d2f9a61b0c4'
const BOB = 'sess-bob-1e8c5b37a9f2'

/** What a login callback gets from the authorization-code exchange. */
const login = (name: string, expiresIn = 3600) => ({
  access_token: `at-${name}-0`,
  token_type: 'Bearer',
  expires_in: expiresIn,
  refresh_token: `rt-${name}-0-0123456789`,
  scope: 'openid orders:read',
})

function manager(options: Partial<TokenManagerOptions> = {}) {
  return createTokenManager({ grant: userTokens(CLIENT), ...options })
}

/** A token endpoint that refreshes: at-r1/rt-r1, at-r2/rt-r2, … (rotating refresh tokens). */
function refreshing(rotate = true): SeenRequest[] {
  return tokenEndpoint((_request, index) => [
    200,
    {
      access_token: `at-r${index + 1}`,
      token_type: 'Bearer',
      expires_in: 3600,
      ...(rotate ? { refresh_token: `rt-r${index + 1}-0123456789` } : {}),
    },
  ])
}

const form = (request: SeenRequest | undefined) =>
  Object.fromEntries(new URLSearchParams(request?.body))

describe('userTokens(): a BFF holds each session’s tokens', () => {
  it('serves each session its own token from setSession(), with no token request', async () => {
    const tokens = manager()
    await tokens.setSession(ALICE, login('alice'))
    await tokens.setSession(BOB, login('bob'))

    expect((await tokens.getToken({ session: ALICE })).accessToken).toBe('at-alice-0')
    expect((await tokens.getToken({ session: BOB })).accessToken).toBe('at-bob-0')
    expect(tokens.stats().requested).toBe(0)
  })

  it('refreshes an expiring session once for 100 concurrent callers, with its refresh token', async () => {
    const clock = manualClock()
    const seen = refreshing()
    const tokens = manager({ now: clock.now })
    await tokens.setSession(ALICE, login('alice'))
    await tokens.setSession(BOB, login('bob'))
    // Past the refresh skew of 60 s before expiry.
    clock.advance(3_600_000 - 30_000)

    const results = await Promise.all(
      Array.from({ length: 100 }, () => tokens.getToken({ session: ALICE })),
    )

    expect(new Set(results.map((token) => token.accessToken))).toEqual(new Set(['at-r1']))
    expect(seen).toHaveLength(1)
    expect(form(seen[0])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-alice-0-0123456789',
    })
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /)
  })

  it('uses the newest refresh token next, and keeps it when a response brings none', async () => {
    const seen = tokenEndpoint((_request, index) => [
      200,
      {
        access_token: `at-r${index + 1}`,
        token_type: 'Bearer',
        expires_in: 3600,
        ...(index === 0 ? { refresh_token: 'rt-rotated-0123456789' } : {}),
      },
    ])
    const tokens = manager()
    await tokens.setSession(ALICE, login('alice'))
    for (let i = 0; i < 3; i++) {
      const token = await tokens.getToken({ session: ALICE })
      tokens.invalidate(token.accessToken)
    }
    await tokens.getToken({ session: ALICE })

    expect(seen.map((request) => form(request).refresh_token)).toEqual([
      'rt-alice-0-0123456789',
      'rt-rotated-0123456789',
      'rt-rotated-0123456789',
    ])
  })

  it('refreshes a rejected session only: the other sessions keep their tokens', async () => {
    const seen = refreshing()
    const tokens = manager()
    await tokens.setSession(ALICE, login('alice'))
    await tokens.setSession(BOB, login('bob'))

    expect(tokens.invalidate('at-alice-0')).toBe(true)
    expect((await tokens.getToken({ session: ALICE })).accessToken).toBe('at-r1')
    expect((await tokens.getToken({ session: BOB })).accessToken).toBe('at-bob-0')
    expect(seen).toHaveLength(1)
  })

  it('ends the session on invalid_grant: every waiter gets a LoginRequiredError, and its tokens are gone', async () => {
    const seen = tokenEndpoint(() => [
      400,
      {
        error: 'invalid_grant',
        error_description: 'refresh token rt-alice-0-0123456789 was already used',
      },
    ])
    const events: TokenEvent[] = []
    const tokens = manager({ onEvent: (event) => events.push(event) })
    await tokens.setSession(ALICE, login('alice'))
    tokens.invalidate('at-alice-0')

    const failures = await Promise.all(
      Array.from({ length: 100 }, () =>
        tokens.getToken({ session: ALICE }).catch((error: unknown) => error),
      ),
    )

    expect(seen).toHaveLength(1)
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(LoginRequiredError)
      expect(failure).toMatchObject({ code: 'login_required' })
    }
    const shown = [
      inspect(failures[0], { depth: Infinity }),
      JSON.stringify(failures[0]),
      JSON.stringify(events),
      inspect(events, { depth: Infinity }),
    ].join('\n')
    for (const secret of ['rt-alice-0-0123456789', 'at-alice-0', ALICE, CLIENT.clientSecret]) {
      expect(shown).not.toContain(secret)
    }
    // Gone: the next call asks nobody and says to log in.
    await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    expect(seen).toHaveLength(1)
  })

  it('says to log in for a session never set, ended, or expired without a refresh token, asking nobody', async () => {
    const clock = manualClock()
    const tokens = manager({ now: clock.now })
    await expect(tokens.getToken({ session: ALICE })).rejects.toThrow(/never set.*setSession/)

    await tokens.setSession(ALICE, login('alice'))
    await tokens.endSession(ALICE)
    await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)

    const { refresh_token: _none, ...withoutRefresh } = login('bob', 60)
    await tokens.setSession(BOB, withoutRefresh)
    expect((await tokens.getToken({ session: BOB })).accessToken).toBe('at-bob-0')
    clock.advance(61_000)
    await expect(tokens.getToken({ session: BOB })).rejects.toThrow(/no refresh token/)
    expect(tokens.stats().requested).toBe(0)
  })

  it('keeps 10,000 sessions with only cacheSize of them in process memory; the rest come from the store', async () => {
    const store = new MemoryTokenStore({ maxEntries: 20_000 })
    const tokens = manager({ store, cacheSize: 100 })
    for (let i = 0; i < 10_000; i++) {
      await tokens.setSession(`session-${i}-padding`, login(`u${i}`))
    }
    expect(store.size).toBe(10_000)

    expect((await tokens.getToken({ session: 'session-0-padding' })).accessToken).toBe('at-u0-0')
    expect(tokens.stats()).toMatchObject({ requested: 0, fromStore: 1 })
  })

  it('bounds its own in-memory store by maxSessions: the least recently set sessions log in again', async () => {
    const tokens = manager({ cacheSize: 2, maxSessions: 3 })
    for (const name of ['a', 'b', 'c', 'd']) await tokens.setSession(`session-${name}`, login(name))

    await expect(tokens.getToken({ session: 'session-a' })).rejects.toBeInstanceOf(
      LoginRequiredError,
    )
    expect((await tokens.getToken({ session: 'session-b' })).accessToken).toBe('at-b-0')
  })

  it('refreshes a session that left process memory with the refresh token from the store', async () => {
    const clock = manualClock()
    const seen = refreshing()
    const tokens = manager({ cacheSize: 1, now: clock.now })
    await tokens.setSession(ALICE, login('alice'))
    await tokens.setSession(BOB, login('bob')) // pushes Alice out of process memory
    clock.advance(3_600_000)

    expect((await tokens.getToken({ session: ALICE })).accessToken).toBe('at-r1')
    expect(form(seen[0]).refresh_token).toBe('rt-alice-0-0123456789')
  })

  it('ends a session in every manager of a shared store when one ends it, without a token request', async () => {
    const store = new MemoryTokenStore()
    const a = manager({ store })
    const b = manager({ store })
    await a.setSession(ALICE, login('alice'))
    expect((await b.getToken({ session: ALICE })).accessToken).toBe('at-alice-0')

    await a.endSession(ALICE)

    // b held Alice's tokens in memory; the store is the sessions' source of truth.
    await expect(b.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    b.invalidate('at-alice-0')
    await expect(b.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    expect(b.stats().requested).toBe(0)
  })

  it('never brings back an ended session with the refresh token memory still holds', async () => {
    // The session ends in the store between this manager's read and its refresh.
    const memory = new MemoryTokenStore()
    let reads = 0
    const store: TokenStore = {
      get: (key) => (++reads === 1 ? memory.get(key) : undefined),
      set: (key, token: Token) => memory.set(key, token),
      delete: (key) => memory.delete(key),
    }
    const tokens = manager({ store: sharedStore(store) })
    await tokens.setSession(ALICE, login('alice'))
    tokens.invalidate('at-alice-0')

    await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    expect(tokens.stats().requested).toBe(0)
  })

  it("takes the session's token another manager refreshed, with one store read for concurrent calls", async () => {
    const seen = refreshing()
    const memory = new MemoryTokenStore()
    let reads = 0
    const store: TokenStore = {
      get: (key) => {
        reads++
        return memory.get(key)
      },
      set: (key, token: Token) => memory.set(key, token),
      delete: (key) => memory.delete(key),
    }
    const a = manager({ store: sharedStore(store) })
    const b = manager({ store: sharedStore(store) })
    await a.setSession(ALICE, login('alice'))
    await b.getToken({ session: ALICE })
    a.invalidate('at-alice-0')
    expect((await a.getToken({ session: ALICE })).accessToken).toBe('at-r1')
    reads = 0

    const got = await Promise.all(Array.from({ length: 20 }, () => b.getToken({ session: ALICE })))

    expect(new Set(got.map((token) => token.accessToken))).toEqual(new Set(['at-r1']))
    expect(reads).toBe(1)
    expect(seen).toHaveLength(1)
  })

  it('ends a session whose refresh is under way at logout: the refreshed token is dropped too', async () => {
    for (const store of [new MemoryTokenStore(), undefined]) {
      refreshing()
      const tokens = manager({ store, retry: false })
      await tokens.setSession(ALICE, login('alice'))
      tokens.invalidate('at-alice-0')
      const pending = tokens.getToken({ session: ALICE }) // the refresh is under way

      await tokens.endSession(ALICE)

      await pending.catch(() => {})
      await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
      nock.cleanAll()
    }
  })

  it('revokes, at endSession(id, { revoke: true }), the tokens of a refresh under way: the session does not come back', async () => {
    const clock = manualClock()
    const seen = tokenEndpoint(
      () => [200, { access_token: 'at-r1', expires_in: 3600, refresh_token: 'rt-r1-0123456789' }],
      { delay: 50 },
    )
    const revocations = tokenEndpoint(() => [200, ''], { path: '/oauth/revoke' })
    const memory = new MemoryTokenStore()
    const tokens = manager({
      grant: userTokens({ ...CLIENT, revocationUrl: `${new URL(TOKEN_URL).origin}/oauth/revoke` }),
      revocation: revocation(),
      store: memory,
      now: clock.now,
    })
    await tokens.setSession(ALICE, login('alice'))
    clock.advance(3_600_000) // expired: the next call refreshes
    const refreshing = tokens.getToken({ session: ALICE })
    // The refresh is at the token endpoint (answering in 50 ms) when the user logs out.
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))

    await tokens.endSession(ALICE, { revoke: true })

    await expect(refreshing).resolves.toMatchObject({ accessToken: 'at-r1' })
    expect(seen).toHaveLength(1)
    // The refresh's rotated refresh token and its access token were revoked, not the old ones only.
    expect(revocations.map((request) => new URLSearchParams(request.body).get('token'))).toEqual([
      'rt-r1-0123456789',
      'at-r1',
    ])
    await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    expect(memory.size).toBe(0)
  })

  it('ends the session at endSession(id, { revoke: true }) without the revocation option, then rejects with a ConfigError naming it', async () => {
    const memory = new MemoryTokenStore()
    const tokens = manager({ store: memory })
    await tokens.setSession(ALICE, login('alice'))
    expect(memory.size).toBe(1)

    await expect(tokens.endSession(ALICE, { revoke: true })).rejects.toMatchObject({
      name: 'ConfigError',
      option: 'revocation',
      message: expect.stringContaining('endSession({ revoke: true })'),
    })

    // The logout is not lost: the session is gone here and in the store.
    await expect(tokens.getToken({ session: ALICE })).rejects.toBeInstanceOf(LoginRequiredError)
    expect(memory.size).toBe(0)
  })

  it("lets a call's signal end its wait for a store that does not answer; the other calls keep waiting for it", async () => {
    const seen = refreshing()
    const memory = new MemoryTokenStore()
    let answer: (() => void) | undefined
    let hung = false
    const store: TokenStore = {
      // Once hung, a read answers only when the test says so (a store that stopped answering).
      get: async (key) => {
        if (hung) await new Promise<void>((resolve) => (answer = resolve))
        return memory.get(key)
      },
      set: (key, token: Token) => memory.set(key, token),
      delete: (key) => memory.delete(key),
    }
    const tokens = manager({ store: sharedStore(store) })
    await tokens.setSession(ALICE, login('alice'))
    hung = true
    const controller = new AbortController()
    const timedOut = tokens.getToken({ session: ALICE, signal: controller.signal })
    const patient = tokens.getToken({ session: ALICE })
    const reason = new Error('the request timed out')

    controller.abort(reason)

    await expect(timedOut).rejects.toBe(reason)
    let settled = false
    void patient.finally(() => (settled = true))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(settled).toBe(false)
    answer?.()
    await expect(patient).resolves.toMatchObject({ accessToken: 'at-alice-0' })
    expect(seen).toHaveLength(0)
    nock.cleanAll()
  })

  it("serves memory's copy when the store does not answer within timeout, reports it, and reads the store afresh on the next call", async () => {
    const memory = new MemoryTokenStore()
    const events: TokenEvent[] = []
    let hung = false
    let reads = 0
    const store: TokenStore = {
      get: (key) => {
        reads++
        return hung ? new Promise<never>(() => {}) : memory.get(key)
      },
      set: (key, token: Token) => memory.set(key, token),
      delete: (key) => memory.delete(key),
    }
    const tokens = manager({
      store: sharedStore(store),
      timeout: 50,
      onEvent: (event) => events.push(event),
    })
    await tokens.setSession(ALICE, login('alice'))
    hung = true

    await expect(tokens.getToken({ session: ALICE })).resolves.toMatchObject({
      accessToken: 'at-alice-0',
    })
    expect(events.filter((event) => event.type === 'store_error')).toEqual([
      expect.objectContaining({ operation: 'get', error: expect.any(Error) }),
    ])
    hung = false
    const before = reads
    await tokens.getToken({ session: ALICE })
    expect(reads).toBe(before + 1)
  })

  it('lets close() end a session call that was reading the store: no token request after it', async () => {
    const clock = manualClock()
    const seen = refreshing()
    const memory = new MemoryTokenStore()
    const store: TokenStore = {
      get: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 30)) // a Redis round trip
        return memory.get(key)
      },
      set: (key, token: Token) => memory.set(key, token),
      delete: (key) => memory.delete(key),
    }
    const tokens = manager({ store: sharedStore(store), now: clock.now })
    await tokens.setSession(ALICE, login('alice'))
    clock.advance(3_600_000 - 30_000) // in the early-refresh window
    const pending = tokens.getToken({ session: ALICE }).catch((error: { code?: string }) => error)

    await tokens.close()

    expect(await pending).toMatchObject({ code: 'manager_closed' })
    expect(seen).toHaveLength(0)
    nock.cleanAll()
  })

  it('refreshes with the rotated refresh token memory holds when storing it failed, under a lock too', async () => {
    const seen = refreshing()
    const memory = new MemoryTokenStore()
    let failSet = false
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token: Token) => {
        if (failSet) throw new Error('redis down')
        memory.set(key, token)
      },
      delete: (key) => memory.delete(key),
      acquire: async () => ({ release: async () => {} }),
      waitForChange: async () => {},
    }
    const tokens = manager({ store: sharedStore(store) })
    await tokens.setSession(ALICE, login('alice'))
    tokens.invalidate('at-alice-0')
    failSet = true
    expect((await tokens.getToken({ session: ALICE })).accessToken).toBe('at-r1')
    failSet = false
    tokens.invalidate('at-r1')
    await tokens.getToken({ session: ALICE })

    expect(seen.map((request) => form(request).refresh_token)).toEqual([
      'rt-alice-0-0123456789',
      'rt-r1-0123456789',
    ])
  })

  it('never puts a session id into a store key or an event', async () => {
    refreshing()
    const keys: string[] = []
    const memory = new MemoryTokenStore()
    const store: TokenStore = {
      get: (key) => memory.get(key),
      set: (key, token: Token) => {
        keys.push(key)
        memory.set(key, token)
      },
      delete: (key) => memory.delete(key),
    }
    const events: TokenEvent[] = []
    const tokens = manager({ store: sharedStore(store), onEvent: (event) => events.push(event) })
    await tokens.setSession(ALICE, login('alice'))
    tokens.invalidate('at-alice-0')
    await tokens.getToken({ session: ALICE })

    expect(keys).toHaveLength(2)
    expect(keys[0]).toBe(keys[1])
    expect(JSON.stringify([keys, events])).not.toContain(ALICE)
  })

  it('refuses what cannot work with a ConfigError naming the option', async () => {
    const tokens = manager()
    await expect(tokens.getToken()).rejects.toMatchObject({ option: 'session' })
    await expect(tokens.getToken({ session: '' })).rejects.toMatchObject({ option: 'session' })
    await expect(tokens.getToken({ session: ALICE, scope: 'admin' })).rejects.toMatchObject({
      option: 'scope',
    })
    await expect(tokens.setSession(ALICE, 'at-alice' as never)).rejects.toMatchObject({
      option: 'tokens',
    })
    const service = createTokenManager({ grant: clientCredentials(CLIENT) })
    const failure = await service.getToken({ session: ALICE }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigError)
    expect(String(failure)).toMatch(/userTokens\(\)/)
    await expect(service.setSession(ALICE, login('alice'))).rejects.toMatchObject({
      option: 'setSession',
    })
    expect(() => manager({ maxSessions: 0 })).toThrow(/maxSessions/)
  })
})

describe('userTokens() through the pipeline: the session per request', () => {
  it('sends each request its session’s token, and refreshes only the session a 401 rejected', async () => {
    const seen = refreshing()
    const tokens = manager()
    await tokens.setSession(ALICE, login('alice'))
    await tokens.setSession(BOB, login('bob'))
    const sent: string[] = []
    nock(API)
      .persist()
      .get('/orders')
      .reply(function () {
        const authorization = String(this.req.headers.authorization)
        sent.push(authorization)
        return authorization === 'Bearer at-alice-0' ? [401, ''] : [200, '[]']
      })
    const policy = createRequestPolicy({ manager: tokens, origins: [API] })
    const send = (session: string) =>
      fetchWithCredentials(policy, fetch, `${API}/orders`, {}, { tokenOptions: { session } })

    const [alice, bob] = await Promise.all([send(ALICE), send(BOB)])

    expect([alice.status, bob.status]).toEqual([200, 200])
    expect(sent.sort()).toEqual(['Bearer at-alice-0', 'Bearer at-bob-0', 'Bearer at-r1'])
    expect(seen.map((request) => form(request).refresh_token)).toEqual(['rt-alice-0-0123456789'])
  })
})
