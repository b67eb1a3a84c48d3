import { describe, expect, it } from 'vitest'
import {
  clientCredentials,
  createTokenManager,
  passwordGrant,
  refreshTokenGrant,
  type TokenEvent,
} from '../src/index'
import { TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const grant = () => clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'app', clientSecret: 's3' })

describe('subscribe()', () => {
  it('calls a listener added after creation with every event, after onEvent', async () => {
    tokenEndpoint()
    const order: string[] = []
    const manager = createTokenManager({
      grant: grant(),
      onEvent: (event) => order.push(`option ${event.type}`),
    })
    manager.subscribe((event) => order.push(`listener ${event.type}`))
    await manager.getToken()
    expect(order).toEqual([
      'option token_requested',
      'listener token_requested',
      'option token_received',
      'listener token_received',
    ])
  })

  it('stops calling a listener once it unsubscribed, and unsubscribing twice does nothing', async () => {
    tokenEndpoint(() => [500, {}])
    const events: TokenEvent[] = []
    const manager = createTokenManager({ grant: grant(), retry: false })
    const unsubscribe = manager.subscribe((event) => events.push(event))
    const other = manager.subscribe(() => {})
    unsubscribe()
    unsubscribe()
    other()
    await expect(manager.getToken()).rejects.toMatchObject({ code: 'http_error' })
    expect(events).toEqual([])
  })

  it('calls the same function subscribed twice twice, and ignores what a listener throws', async () => {
    tokenEndpoint()
    const types: string[] = []
    const manager = createTokenManager({ grant: grant() })
    const listener = (event: TokenEvent) => types.push(event.type)
    manager.subscribe(() => {
      throw new Error('broken listener')
    })
    const first = manager.subscribe(listener)
    manager.subscribe(listener)
    first()
    await expect(manager.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    expect(types).toEqual(['token_requested', 'token_received'])
  })
})

describe('grantType', () => {
  it("names the grant's type, never a credential", () => {
    expect(createTokenManager({ grant: grant() }).grantType).toBe('client_credentials')
    const login = passwordGrant({
      tokenUrl: TOKEN_URL,
      clientId: 'app',
      username: 'u',
      password: 'p',
    })
    expect(createTokenManager({ grant: login }).grantType).toBe('password')
    const refresh = refreshTokenGrant({ tokenUrl: TOKEN_URL, clientId: 'app', refreshToken: 'r' })
    expect(createTokenManager({ grant: refresh }).grantType).toBe('refresh_token')
  })
})
