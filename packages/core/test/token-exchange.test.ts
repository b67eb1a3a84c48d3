import { describe, expect, it } from 'vitest'
import {
  clientCredentials,
  createTokenManager,
  MemoryTokenStore,
  type TokenEvent,
} from '../src/index'
import { TOKEN_EXCHANGE_GRANT_TYPE, tokenExchange } from '../src/token-exchange'
import { manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const SECRET = 'bff-client-secret-7d1e4a'
const USER_TOKEN = 'user-access-token-of-ada-4f9c2e81'
const OTHER_USER_TOKEN = 'user-access-token-of-grace-b3a07d55'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'
const form = (body: string) => Object.fromEntries(new URLSearchParams(body))

/** A JWT (unsigned: only its `exp` is read) expiring at `exp` seconds. */
function jwt(exp: number, sub = 'ada'): string {
  const part = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, '')
  return `${part({ alg: 'none' })}.${part({ sub, exp })}.c2lnbmF0dXJl`
}

/** Exchanged tokens numbered in order, each naming the subject token it was issued for. */
function exchanging(expiresIn = 3600) {
  return (request: { body: string }, index: number) =>
    [
      200,
      {
        access_token: `downstream-${index + 1}-${form(request.body).subject_token?.slice(-8)}`,
        issued_token_type: ACCESS,
        token_type: 'Bearer',
        expires_in: expiresIn,
      },
    ] as [number, unknown]
}

function manager(options: Partial<Parameters<typeof tokenExchange>[0]> = {}, extra = {}) {
  return createTokenManager({
    grant: tokenExchange({
      tokenUrl: TOKEN_URL,
      clientId: 'bff',
      clientSecret: SECRET,
      audience: 'https://orders.example.test',
      ...options,
    }),
    ...extra,
  })
}

describe('tokenExchange() (RFC 8693)', () => {
  it('sends the subject token with its type, the audience and the client authentication (§2.1)', async () => {
    const seen = tokenEndpoint(exchanging())
    const tokens = manager({ scope: 'orders:read', resource: 'https://orders.example.test/v1' })

    const token = await tokens.getToken({ subjectToken: USER_TOKEN })

    expect(token.accessToken).toBe(`downstream-1-${USER_TOKEN.slice(-8)}`)
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.authorization).toBe(`Basic ${btoa(`bff:${SECRET}`)}`)
    expect(form(seen[0]?.body ?? '')).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: USER_TOKEN,
      subject_token_type: ACCESS,
      audience: 'https://orders.example.test',
      resource: 'https://orders.example.test/v1',
      scope: 'orders:read',
    })
  })

  it('sends the actor token and the requested token type, and a per-call subject token type', async () => {
    const seen = tokenEndpoint(exchanging())
    const tokens = manager({
      actorToken: 'actor-token-of-the-bff-0c61f2',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    })

    await tokens.getToken({
      subjectToken: USER_TOKEN,
      subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token',
    })

    expect(form(seen[0]?.body ?? '')).toMatchObject({
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      actor_token: 'actor-token-of-the-bff-0c61f2',
      actor_token_type: ACCESS,
      requested_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    })
  })

  it('caches per subject token: one exchange for a burst of one user, one more for another user', async () => {
    const seen = tokenEndpoint(exchanging(), { delay: 20 })
    const tokens = manager()

    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        tokens.getToken({ subjectToken: i % 2 ? USER_TOKEN : OTHER_USER_TOKEN }),
      ),
    )
    const again = await tokens.getToken({ subjectToken: USER_TOKEN })

    expect(seen).toHaveLength(2)
    expect(new Set(burst.map((token) => token.accessToken)).size).toBe(2)
    expect(again.accessToken).toBe(burst[1]?.accessToken)
    expect(form(seen[0]?.body ?? '').subject_token).not.toBe(
      form(seen[1]?.body ?? '').subject_token,
    )
    expect(tokens.stats().cacheHits).toBe(1)
  })

  it('keys the cache and the events by a hash of the subject token, never the token itself', async () => {
    tokenEndpoint(exchanging())
    const events: TokenEvent[] = []
    const store = new MemoryTokenStore()
    const sets: string[] = []
    const set = store.set.bind(store)
    store.set = (key, ...rest) => {
      sets.push(key)
      return set(key, ...rest)
    }
    const tokens = manager({}, { onEvent: (event: TokenEvent) => events.push(event), store })

    await tokens.getToken({ subjectToken: USER_TOKEN })
    await tokens.getToken({ subjectToken: OTHER_USER_TOKEN })

    const keys = [...new Set(events.map((event) => ('key' in event ? event.key : '')))]
    expect(keys).toHaveLength(2)
    expect(sets.length).toBeGreaterThan(0)
    for (const text of [JSON.stringify(events), ...sets]) {
      expect(text).not.toContain(USER_TOKEN)
      expect(text).not.toContain(OTHER_USER_TOKEN)
      expect(text).not.toContain(SECRET)
    }
    // SHA-256 of the subject token, base64url.
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(USER_TOKEN))
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
    expect(keys.some((key) => key.includes(hash))).toBe(true)
  })

  it("never uses an exchanged token past the subject token's JWT exp, and asks nothing once it has passed", async () => {
    const clock = manualClock(1_700_000_000_000)
    const seen = tokenEndpoint(exchanging(3600))
    const tokens = manager({}, { now: clock.now })
    const subjectToken = jwt(1_700_000_000 + 60)

    const token = await tokens.getToken({ subjectToken })
    expect(token.expiresAt).toBe(1_700_000_060_000)

    clock.advance(59_000)
    await expect(tokens.getToken({ subjectToken })).resolves.toBe(token)
    clock.advance(1_000)
    await expect(tokens.getToken({ subjectToken })).rejects.toMatchObject({
      code: 'subject_token_expired',
    })
    expect(seen).toHaveLength(1)
  })

  it('caps the lifetime at subjectTokenExpiresAt for an opaque subject token, and keeps a shorter one', async () => {
    const clock = manualClock(1_700_000_000_000)
    tokenEndpoint(exchanging(30))
    const tokens = manager({}, { now: clock.now })

    const capped = await tokens.getToken({
      subjectToken: USER_TOKEN,
      subjectTokenExpiresAt: new Date(1_700_000_010_000),
    })
    const shorter = await tokens.getToken({
      subjectToken: OTHER_USER_TOKEN,
      subjectTokenExpiresAt: 1_700_000_600_000,
    })

    expect(capped).toMatchObject({ expiresAt: 1_700_000_010_000, refreshAt: 1_700_000_010_000 })
    expect(shorter.expiresAt).toBe(1_700_000_030_000)
  })

  it('refuses an expired subject token without a request', async () => {
    const tokens = manager({}, { now: () => 1_700_000_000_000 })

    await expect(tokens.getToken({ subjectToken: jwt(1_699_999_999) })).rejects.toMatchObject({
      code: 'subject_token_expired',
    })
  })

  it('accepts token_type "N_A" for a token that is not an access token (§2.2.1)', async () => {
    tokenEndpoint(() => [
      200,
      {
        access_token: 'issued-jwt-9d0e',
        issued_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_type: 'N_A',
      },
    ])

    const token = await manager().getToken({ subjectToken: USER_TOKEN })

    expect(token).toMatchObject({ accessToken: 'issued-jwt-9d0e', tokenType: 'Bearer' })
  })

  it('keeps the subject and actor tokens out of an error a server echoes them in', async () => {
    tokenEndpoint((request) => [
      400,
      {
        error: 'invalid_grant',
        error_description: `subject ${form(request.body).subject_token} acting as ${form(request.body).actor_token} is not allowed`,
      },
    ])
    const events: TokenEvent[] = []
    const tokens = manager(
      { actorToken: 'actor-token-of-the-bff-0c61f2' },
      { onEvent: (event: TokenEvent) => events.push(event) },
    )

    const error = await tokens.getToken({ subjectToken: USER_TOKEN }).catch((e: unknown) => e)

    expect(error).toMatchObject({ code: 'invalid_grant' })
    const text = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify(events)}`
    expect(text).toContain('[redacted]')
    expect(text).not.toContain(USER_TOKEN)
    expect(text).not.toContain('actor-token-of-the-bff-0c61f2')
  })

  it('rejects a call without a subject token, and a subject token given to another grant, with a ConfigError', async () => {
    await expect(manager().getToken()).rejects.toMatchObject({
      name: 'ConfigError',
      option: 'subjectToken',
      message: expect.stringContaining('getToken({ subjectToken })'),
    })
    const other = createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET }),
    })
    await expect(other.getToken({ subjectToken: USER_TOKEN })).rejects.toMatchObject({
      name: 'ConfigError',
      option: 'subjectToken',
      message: expect.stringContaining('tokenExchange()'),
    })
    expect(() => manager({ actorToken: '' })).toThrow(/actorToken/)
    expect(() => manager({ subjectTokenType: '' })).toThrow(/subjectTokenType/)
  })

  it('drops a rejected exchanged token of one subject only (the stale-401 rule holds per subject)', async () => {
    const seen = tokenEndpoint(exchanging())
    const tokens = manager()
    const ada = await tokens.getToken({ subjectToken: USER_TOKEN })
    const grace = await tokens.getToken({ subjectToken: OTHER_USER_TOKEN })

    expect(tokens.reject(ada.accessToken)).toBe('dropped')
    const next = await tokens.getToken({ subjectToken: USER_TOKEN })

    expect(next.accessToken).not.toBe(ada.accessToken)
    await expect(tokens.getToken({ subjectToken: OTHER_USER_TOKEN })).resolves.toBe(grace)
    expect(seen).toHaveLength(3)
  })
})
