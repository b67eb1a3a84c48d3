import { describe, expect, it } from 'vitest'
import { clientCredentials, createTokenManager, type TokenEvent } from '../src/index'
import { manualClock, TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

/** A manager on a hand-driven clock whose endpoint issues at-1, at-2, … */
function setup() {
  const clock = manualClock()
  const events: TokenEvent[] = []
  const seen = tokenEndpoint((_request, index) => [
    200,
    { access_token: `at-${index + 1}`, token_type: 'Bearer', expires_in: 3600 },
  ])
  const tokens = createTokenManager({
    grant: clientCredentials({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      clientSecret: 's3cret-value',
    }),
    now: clock.now,
    onEvent: (event) => events.push(event),
  })
  const backoffs = () => events.filter((event) => event.type === 'rejection_backoff')
  return { clock, seen, tokens, backoffs }
}

describe('rejection backoff', () => {
  it('drops a rejected token, but keeps the fresh one that replaced it when that is rejected too', async () => {
    const { seen, tokens, backoffs } = setup()
    const first = await tokens.getToken()

    expect(tokens.reject(first.accessToken)).toBe('dropped')
    const second = await tokens.getToken()
    expect(second.accessToken).toBe('at-2')
    expect(tokens.reject(second.accessToken)).toBe('backoff')

    // Kept: the 401s reach the callers, and no token is asked for.
    expect(await tokens.getToken()).toMatchObject({ accessToken: 'at-2' })
    expect(tokens.reject(second.accessToken)).toBe('backoff')
    expect(seen).toHaveLength(2)
    expect(backoffs()).toEqual([
      { type: 'rejection_backoff', key: expect.any(String), backoffs: 1, delay: 1_000 },
    ])
    expect(tokens.stats()).toMatchObject({ rejectionBackoffs: 1, requested: 2 })
  })

  it('tries one fresh token after each wait, doubling the wait up to 60 s', async () => {
    const { clock, seen, tokens, backoffs } = setup()
    let current = await tokens.getToken()
    tokens.reject(current.accessToken)
    current = await tokens.getToken()

    const delays: number[] = []
    for (let round = 0; round < 9; round++) {
      expect(tokens.reject(current.accessToken)).toBe('backoff')
      const event = backoffs().at(-1)
      const delay = event?.type === 'rejection_backoff' ? event.delay : 0
      delays.push(delay)
      clock.advance(delay - 1)
      expect(tokens.reject(current.accessToken)).toBe('backoff')
      clock.advance(1)
      expect(tokens.reject(current.accessToken)).toBe('dropped')
      current = await tokens.getToken()
    }

    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
    expect(seen).toHaveLength(11)
  })

  it('ends when a response accepts a token: the next rejection refreshes at once', async () => {
    const { seen, tokens } = setup()
    const first = await tokens.getToken()
    tokens.reject(first.accessToken)
    const second = await tokens.getToken()
    expect(tokens.reject(second.accessToken)).toBe('backoff')

    tokens.accept(second.accessToken)

    expect(tokens.reject(second.accessToken)).toBe('dropped')
    expect(await tokens.getToken()).toMatchObject({ accessToken: 'at-3' })
    expect(seen).toHaveLength(3)
  })

  it('a token that did its work and is then rejected (a revocation) is refreshed at once every time', async () => {
    const { seen, tokens, backoffs } = setup()
    for (let round = 0; round < 5; round++) {
      const token = await tokens.getToken()
      tokens.accept(token.accessToken)
      expect(tokens.reject(token.accessToken)).toBe('dropped')
    }
    expect(seen).toHaveLength(5)
    expect(backoffs()).toEqual([])
  })

  it('a token already replaced is stale (the stale-401 rule), in a backoff or not', async () => {
    const { tokens } = setup()
    const first = await tokens.getToken()
    expect(tokens.reject(first.accessToken)).toBe('dropped')
    expect(tokens.reject(first.accessToken)).toBe('stale')
    const second = await tokens.getToken()
    expect(tokens.reject(second.accessToken)).toBe('backoff')
    expect(tokens.reject(first.accessToken)).toBe('stale')
    expect(tokens.reject('never-issued')).toBe('stale')
  })

  it('invalidate() drops the current token whatever came before, as it always did', async () => {
    const { seen, tokens } = setup()
    for (let round = 0; round < 3; round++) {
      const token = await tokens.getToken()
      expect(tokens.invalidate(token.accessToken)).toBe(true)
    }
    expect(seen).toHaveLength(3)
  })
})
