import { describe, expect, it } from 'vitest'
import { clientCredentials, createTokenManager, OAuthError } from '../src/index'
import { manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const grant = () =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' })

describe('single flight', () => {
  it('starts one token request for 100 concurrent cold getToken() calls', async () => {
    const seen = tokenEndpoint(undefined, { delay: 20 })
    const tokens = createTokenManager({ grant: grant() })
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()))
    expect(seen).toHaveLength(1)
    expect(new Set(results.map((token) => token.accessToken))).toEqual(new Set(['at-1']))
    expect(tokens.stats()).toMatchObject({
      requested: 1,
      received: 1,
      reasons: { cold: 1, expiring: 0, rejected: 0 },
    })
  })

  it('rejects every waiter of a failed flight with the same error, caches nothing, and starts afresh', async () => {
    const seen = tokenEndpoint(
      (_request, index) =>
        index === 0
          ? [400, { error: 'invalid_client', error_description: 'unknown client' }]
          : [200, { access_token: 'at-2', expires_in: 60 }],
      { delay: 10 },
    )
    const tokens = createTokenManager({ grant: grant() })
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => tokens.getToken()))
    const reasons = new Set(
      results.map((result) => (result.status === 'rejected' ? result.reason : 'fulfilled')),
    )
    expect(reasons.size).toBe(1)
    const [error] = reasons
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({ code: 'invalid_client', status: 400, transient: false })
    expect(seen).toHaveLength(1)

    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })
    expect(seen).toHaveLength(2)
    expect(tokens.stats()).toMatchObject({ failed: 1, received: 1 })
  })

  it('an aborted waiter stops waiting; the shared request goes on for the others', async () => {
    const seen = tokenEndpoint(undefined, { delay: 30 })
    const tokens = createTokenManager({ grant: grant() })
    const controller = new AbortController()
    const aborted = tokens.getToken({ signal: controller.signal })
    const other = tokens.getToken()
    controller.abort(new Error('user gave up'))
    await expect(aborted).rejects.toThrow('user gave up')
    await expect(other).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(seen).toHaveLength(1)
    // Already aborted: no request starts on its behalf.
    const cold = createTokenManager({ grant: grant() })
    await expect(cold.getToken({ signal: AbortSignal.abort() })).rejects.toThrow()
    expect(seen).toHaveLength(1)
  })

  it('caches per scope/audience/resource: each set gets its own token and flight', async () => {
    const seen = tokenEndpoint((request) => [
      200,
      {
        access_token: `at-${new URLSearchParams(request.body).get('scope') ?? 'none'}`,
        expires_in: 3600,
      },
    ])
    const tokens = createTokenManager({ grant: grant() })
    const [a, b, a2] = await Promise.all([
      tokens.getToken({ scope: 'a' }),
      tokens.getToken({ scope: 'b' }),
      tokens.getToken({ scope: ['a'] }),
    ])
    expect([a?.accessToken, b?.accessToken, a2?.accessToken]).toEqual(['at-a', 'at-b', 'at-a'])
    expect(seen).toHaveLength(2)
    await tokens.getToken({ scope: 'a' })
    expect(seen).toHaveLength(2)
  })
  it('invalidates a token of any cached scope, and an evicted scope is fetched again', async () => {
    let issued = 0
    const seen = tokenEndpoint((request) => [
      200,
      {
        access_token: `at-${new URLSearchParams(request.body).get('scope')}-${++issued}`,
        expires_in: 3600,
      },
    ])
    const tokens = createTokenManager({ grant: grant(), cacheSize: 2 })
    const a = await tokens.getToken({ scope: 'a' })
    await tokens.getToken({ scope: 'b' })
    expect(tokens.invalidate(a.accessToken)).toBe(true)
    await expect(tokens.getToken({ scope: 'a' })).resolves.toMatchObject({ accessToken: 'at-a-3' })
    await tokens.getToken({ scope: 'c' }) // evicts b, the least recently used
    await tokens.getToken({ scope: 'a' })
    expect(seen).toHaveLength(4)
    await expect(tokens.getToken({ scope: 'b' })).resolves.toMatchObject({ accessToken: 'at-b-5' })
    expect(tokens.invalidate('at-b-2')).toBe(false)
  })
})

describe('stale-401 rule', () => {
  it('invalidating the current token refreshes once for 100 concurrent 401s', async () => {
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}`, expires_in: 3600 }], {
      delay: 10,
    })
    const tokens = createTokenManager({ grant: grant() })
    const first = await tokens.getToken()

    const retried = await Promise.all(
      Array.from({ length: 100 }, async () => {
        tokens.invalidate(first.accessToken)
        return tokens.getToken()
      }),
    )
    expect(seen).toHaveLength(2)
    expect(new Set(retried.map((token) => token.accessToken))).toEqual(new Set(['at-2']))
    expect(tokens.stats().reasons).toEqual({ cold: 1, expiring: 0, rejected: 1 })
  })

  it('a 401 for a token already replaced does not refresh again', async () => {
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}` }])
    const tokens = createTokenManager({ grant: grant() })
    const old = await tokens.getToken()
    expect(tokens.invalidate(old.accessToken)).toBe(true)
    const current = await tokens.getToken()
    expect(current.accessToken).toBe('at-2')

    // A late 401 for the old token: nothing changes.
    expect(tokens.invalidate(old.accessToken)).toBe(false)
    await expect(tokens.getToken()).resolves.toBe(current)
    expect(seen).toHaveLength(2)
  })

  it('a token type the client does not understand is refused (RFC 6749 §7.1)', async () => {
    tokenEndpoint(() => [200, { access_token: 'x', token_type: 'mac' }])
    const tokens = createTokenManager({ grant: grant(), now: manualClock().now })
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'unsupported_token_type' })
  })
})
