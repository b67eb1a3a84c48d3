import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  passwordGrant,
  refreshTokenGrant,
  TokenEndpointError,
} from '../src/index'
import { TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const SECRET = 'client-secret-Zq9'
const grant = () =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET })

const configError = (build: () => unknown): ConfigError => {
  try {
    build()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('credentials are checked at construction', () => {
  it('rejects clientSecret present but undefined instead of becoming a public client', () => {
    const error = configError(() =>
      clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientSecret: process.env.UNSET_SECRET_X,
      }),
    )
    expect(error.option).toBe('clientSecret')
    expect(error.message).toContain('clientAuth: "none"')
  })

  it('rejects a clientSecret that is not a string, without quoting it', () => {
    const error = configError(() =>
      clientCredentials({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        clientSecret: 12345678 as unknown as string,
      }),
    )
    expect(error.option).toBe('clientSecret')
    expect(error.message).not.toContain('12345678')
  })

  it('keeps a public client when the clientSecret key is left out', async () => {
    const seen = tokenEndpoint(() => [200, { access_token: 'at-1', expires_in: 60 }])
    const g = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc' })
    await createTokenManager({ grant: g }).getToken()
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(new URLSearchParams(seen[0]?.body).get('client_id')).toBe('svc')
  })

  it('rejects password, username and refreshToken keys that are present but undefined', () => {
    const base = { tokenUrl: TOKEN_URL, clientId: 'svc', clientAuth: 'none' as const }
    expect(
      configError(() =>
        passwordGrant({ ...base, username: 'u', password: process.env.UNSET_X as string }),
      ).option,
    ).toBe('password')
    expect(
      configError(() =>
        passwordGrant({ ...base, username: process.env.UNSET_X as string, password: 'p' }),
      ).option,
    ).toBe('username')
    expect(
      configError(() => refreshTokenGrant({ ...base, refreshToken: process.env.UNSET_X as string }))
        .option,
    ).toBe('refreshToken')
  })
})

describe('network errors name the origin and the cause', () => {
  const failingFetch = (error: unknown) => () => Promise.reject(error)

  it('reads undici-style cause chains with AggregateError and code', async () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), {
      code: 'ECONNREFUSED',
    })
    const inner = Object.assign(
      new AggregateError([socket, new Error('connect ENETUNREACH ::1:443')], ''),
      {
        code: 'ECONNREFUSED',
      },
    )
    const fetchError = new TypeError('fetch failed', { cause: inner })
    const manager = createTokenManager({
      grant: clientCredentials({
        tokenUrl: `${TOKEN_URL}?tenant=acme`,
        clientId: 'svc',
        clientSecret: SECRET,
      }),
      fetch: failingFetch(fetchError),
      retry: false,
    })
    const error = (await manager.getToken().catch((e: unknown) => e)) as TokenEndpointError
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error.code).toBe('network_error')
    expect(error.message).toBe(
      'The token request to https://auth.example.test failed on the network: connect ECONNREFUSED 127.0.0.1:443; connect ENETUNREACH ::1:443',
    )
    expect(error.message).not.toContain('/oauth/token')
    expect(error.message).not.toContain('acme')
    expect((error.cause as Error).message).toBe('fetch failed')
  })

  it('says what it can when the platform gives only "Failed to fetch"', async () => {
    const manager = createTokenManager({
      grant: grant(),
      fetch: failingFetch(new TypeError('Failed to fetch')),
      retry: false,
    })
    const error = (await manager.getToken().catch((e: unknown) => e)) as TokenEndpointError
    expect(error.message).toBe(
      'The token request to https://auth.example.test failed on the network: Failed to fetch',
    )
  })

  it('reads a Bun/Deno-style code on the error itself', async () => {
    const manager = createTokenManager({
      grant: grant(),
      fetch: failingFetch(
        Object.assign(new Error('Unable to connect'), { code: 'ConnectionRefused' }),
      ),
      retry: false,
    })
    const error = (await manager.getToken().catch((e: unknown) => e)) as TokenEndpointError
    expect(error.message).toBe(
      'The token request to https://auth.example.test failed on the network: Unable to connect (ConnectionRefused)',
    )
  })
})

describe('token syntax (RFC 6750 §2.1, RFC 7230)', () => {
  it.each([
    ['a CR/LF', 'at-1\r\nx-evil: 1'],
    ['a space', 'at 1'],
    ['a non-ASCII character', 'at-é'],
    ['padding in the middle', 'ab=cd'],
  ])('rejects an access_token with %s, without quoting it', async (_, accessToken) => {
    const seen = tokenEndpoint(() => [200, { access_token: accessToken, expires_in: 60 }])
    const events: unknown[] = []
    const manager = createTokenManager({ grant: grant(), onEvent: (e) => events.push(e) })
    const error = (await manager.getToken().catch((e: unknown) => e)) as TokenEndpointError
    expect(seen).toHaveLength(1)
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error.code).toBe('invalid_response')
    expect(error.message).toContain('b64token')
    expect(error.message).not.toContain(accessToken)
    expect(JSON.stringify(error)).not.toContain(accessToken)
    expect(JSON.stringify(events)).not.toContain(accessToken)
  })

  it('accepts a b64token with trailing padding', async () => {
    tokenEndpoint(() => [200, { access_token: 'aB3-._~+/xyz==', expires_in: 60 }])
    const token = await createTokenManager({ grant: grant() }).getToken()
    expect(token.accessToken).toBe('aB3-._~+/xyz==')
  })

  it('rejects a token_type that is not an RFC 7230 token', async () => {
    tokenEndpoint(() => [200, { access_token: 'at-1', token_type: 'Bearer\r\nx', expires_in: 60 }])
    const error = (await createTokenManager({ grant: grant() })
      .getToken()
      .catch((e: unknown) => e)) as TokenEndpointError
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error.code).toBe('invalid_response')
    expect(error.message).toBe('The token response has a token_type that is not an RFC 7230 token')
  })
})
