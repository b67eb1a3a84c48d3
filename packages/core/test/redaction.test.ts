import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  basicAuthorization,
  clientCredentials,
  createTokenManager,
  customGrant,
  type FetchLike,
  type Grant,
  passwordGrant,
  refreshTokenGrant,
  type TokenEvent,
} from '../src/index'
import { sharedStore } from '../src/store'
import { TOKEN_URL } from './helpers'

const SECRET = 's3cr3t-value'

/** A token endpoint that answers each call with the next reply (the last one repeats). */
function replies(...answers: Array<() => Response | Promise<Response>>): FetchLike & {
  calls: number
} {
  const fetch = Object.assign(
    async () => {
      const answer = answers[Math.min(fetch.calls, answers.length - 1)] as () => Response
      fetch.calls++
      return answer()
    },
    { calls: 0 },
  )
  return fetch
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })

const failure = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error('expected the token request to fail')
    },
    (error: unknown) => error as Error,
  )

/** Every way an error is looked at: message, String, JSON and a full inspect. */
const views = (error: unknown): string[] => [
  (error as Error).message,
  String(error),
  JSON.stringify(error),
  inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
]

const cc = (clientAuth?: 'client_secret_basic' | 'client_secret_post') =>
  clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: SECRET, clientAuth })

describe('secrets in server text are redacted', () => {
  it('replaces an echoed client secret in error_description, the message and toJSON', async () => {
    const fetch = replies(
      json(401, { error: 'invalid_client', error_description: `bad secret ${SECRET}` }),
    )
    const error = await failure(createTokenManager({ grant: cc(), fetch }).getToken())
    expect(error).toMatchObject({
      code: 'invalid_client',
      message: 'The token endpoint answered 401 invalid_client: bad secret [redacted]',
      errorDescription: 'bad secret [redacted]',
    })
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      message: 'The token endpoint answered 401 invalid_client: bad secret [redacted]',
      errorDescription: 'bad secret [redacted]',
    })
    for (const view of views(error)) expect(view).not.toContain(SECRET)
  })

  it('replaces the url-encoded secret, the Basic credentials and the secret in error_uri', async () => {
    const secret = 'p@ss word/with+chars'
    const basic = basicAuthorization('svc', secret)
    const fetch = replies(
      json(400, {
        error: 'invalid_request',
        error_description: `got "${basic}" and client_secret=${encodeURIComponent(secret)}`,
        error_uri: `https://auth.example.test/help?secret=${new URLSearchParams({ s: secret }).toString().slice(2)}`,
      }),
    )
    const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: secret })
    const error = await failure(createTokenManager({ grant, fetch }).getToken())
    expect(error).toMatchObject({
      errorDescription: 'got "Basic [redacted]" and client_secret=[redacted]',
      errorUri: 'https://auth.example.test/help?secret=[redacted]',
    })
    for (const view of views(error)) {
      expect(view).not.toContain(secret)
      expect(view).not.toContain(basic.slice(6))
      expect(view).not.toContain(encodeURIComponent(secret))
    }
  })

  it('replaces the password and the refresh token sent, also in a form-encoded error body', async () => {
    const fetch = replies(
      json(200, { access_token: 'at-first-one', refresh_token: 'rt-rotated-0042', expires_in: 1 }),
      () =>
        new Response(
          'error=invalid_grant&error_description=refresh+token+rt-rotated-0042+was+revoked%2C+password+correct-horse',
          { status: 400, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        ),
    )
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      grant: passwordGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        username: 'alice',
        password: 'correct-horse',
      }),
      fetch,
      onEvent: (event) => events.push(event),
    })
    const { accessToken } = await manager.getToken()
    manager.invalidate(accessToken)
    const error = await failure(manager.getToken())
    expect(error.message).toBe(
      'The token endpoint answered 400 invalid_grant: refresh token [redacted] was revoked, password [redacted]',
    )
    // The refresh failed, so the grant logged in again: both errors reached an event.
    expect(events.map((event) => event.type)).toContain('refresh_fallback')
    const eventText = inspect(events, { depth: Number.POSITIVE_INFINITY })
    for (const text of [...views(error), eventText, JSON.stringify(events)]) {
      expect(text).not.toContain('rt-rotated-0042')
      expect(text).not.toContain('correct-horse')
    }
  })

  it('replaces access and refresh tokens the manager received', async () => {
    const fetch = replies(
      json(200, {
        access_token: 'at-received-7731',
        refresh_token: 'rt-received-5512',
        expires_in: 3600,
      }),
      json(400, {
        error: 'invalid_grant',
        error_description: 'at-received-7731 is still valid; rt-received-5512 expired',
      }),
    )
    const manager = createTokenManager({
      grant: refreshTokenGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'svc',
        refreshToken: 'rt-start-9',
      }),
      fetch,
    })
    const { accessToken } = await manager.getToken()
    manager.invalidate(accessToken)
    const error = await failure(manager.getToken())
    expect(error.message).toBe(
      'The token endpoint answered 400 invalid_grant: [redacted] is still valid; [redacted] expired',
    )
  })

  it('replaces what a custom grant sends, and the secrets it declares', async () => {
    const fetch = replies(
      json(401, {
        error: 'access_denied',
        error_description:
          'user alice, password hunter2-long, key ak-123456789, signed with sk-private-777',
      }),
    )
    const grant = customGrant({
      tokenUrl: TOKEN_URL,
      request: () => ({
        headers: { 'X-Api-Key': 'ak-123456789' },
        json: { user: { name: 'alice', password: 'hunter2-long' } },
      }),
      secrets: ['sk-private-777'],
    })
    const error = await failure(createTokenManager({ grant, fetch }).getToken())
    expect((error as { errorDescription?: string }).errorDescription).toBe(
      'user alice, password [redacted], key [redacted], signed with [redacted]',
    )
  })

  it('redacts the cause of a custom parse() that quotes the body it could not read', async () => {
    const fetch = replies(json(200, { data: { access_token: 'at-nested-404040' } }))
    const grant = customGrant({
      tokenUrl: TOKEN_URL,
      request: () => ({ form: { client_secret: SECRET } }),
      parse: (body) => {
        throw new Error(`no token in ${JSON.stringify(body)}`)
      },
    })
    const error = await failure(createTokenManager({ grant, fetch }).getToken())
    expect(error).toMatchObject({ code: 'custom_grant_error' })
    expect((error.cause as Error).message).toBe(
      'no token in {"data":{"access_token":"[redacted]"}}',
    )
    for (const view of views(error)) expect(view).not.toContain('at-nested-404040')
  })

  it('redacts a platform error that quotes a header value it refused', async () => {
    const basic = basicAuthorization('svc', SECRET)
    const fetch: FetchLike = async () => {
      throw new TypeError('fetch failed', {
        cause: new TypeError(`Headers.append: "${basic}" is an invalid header value.`),
      })
    }
    const error = await failure(createTokenManager({ grant: cc(), fetch, retry: false }).getToken())
    expect(error.message).toBe(
      'The token request to https://auth.example.test failed on the network: Headers.append: "Basic [redacted]" is an invalid header value.',
    )
    for (const view of views(error)) expect(view).not.toContain(basic.slice(6))
  })

  it('redacts the secrets of a hand-written grant that declares them', async () => {
    const grant: Grant = {
      type: 'api_key',
      tokenUrl: TOKEN_URL,
      identity: undefined,
      params: { scope: undefined, audience: undefined, resource: [] },
      reobtainAfterRefreshFailure: true,
      obtain: () => {
        throw new Error('cannot sign with key-material-0123456789')
      },
      parse: (body) => ({ accessToken: body.access_token as string }),
      secrets: () => ['key-material-0123456789'],
    }
    const error = await failure(createTokenManager({ grant }).getToken())
    expect((error.cause as Error).message).toBe('cannot sign with [redacted]')
    for (const view of views(error)) expect(view).not.toContain('key-material-0123456789')
  })

  it('redacts a token_type that repeats the client secret', async () => {
    const fetch = replies(json(200, { access_token: 'at-1', token_type: SECRET }))
    const error = await failure(
      createTokenManager({ grant: cc('client_secret_post'), fetch }).getToken(),
    )
    expect(error.message).toContain('issued a "[redacted]" token')
  })

  it('redacts every error an event carries, retries included', async () => {
    const fetch = replies(
      json(503, { error: 'temporarily_unavailable', error_description: `try again ${SECRET}` }),
    )
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      grant: cc(),
      fetch,
      retry: { retries: 1, minDelay: 1, maxDelay: 1 },
      onEvent: (event) => events.push(event),
    })
    const error = await failure(manager.getToken())
    expect(events.map((event) => event.type)).toEqual([
      'token_requested',
      'token_retry',
      'token_requested',
      'token_failed',
    ])
    expect(error.message).toContain('try again [redacted]')
    const text = `${JSON.stringify(events)}${inspect(events, { depth: Number.POSITIVE_INFINITY })}`
    expect(text).toContain('[redacted]')
    expect(text).not.toContain(SECRET)
  })

  it('redacts the tokens a failing store quotes in a store_error event', async () => {
    const fetch = replies(json(200, { access_token: 'at-stored-31337', expires_in: 3600 }))
    const events: TokenEvent[] = []
    const manager = createTokenManager({
      grant: cc(),
      fetch,
      onEvent: (event) => events.push(event),
      store: sharedStore({
        get: () => undefined,
        set: (_key, token) => {
          throw new Error(`cannot write ${JSON.stringify(token)}`)
        },
        delete: () => undefined,
      }),
    })
    expect((await manager.getToken()).accessToken).toBe('at-stored-31337')
    const stored = events.find((event) => event.type === 'store_error')
    expect((stored as { error: Error } | undefined)?.error.message).toContain(
      '"accessToken":"[redacted]"',
    )
    expect(inspect(events, { depth: Number.POSITIVE_INFINITY })).not.toContain('at-stored-31337')
  })

  it('leaves values shorter than 8 characters alone, so ordinary words survive', async () => {
    // A password "invalid" would otherwise turn every "invalid_grant" into "[redacted]_grant".
    const fetch = replies(json(400, { error: 'invalid_grant', error_description: 'invalid login' }))
    const grant = passwordGrant({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      username: 'alice',
      password: 'invalid',
    })
    const error = await failure(createTokenManager({ grant, fetch }).getToken())
    expect(error.message).toBe('The token endpoint answered 400 invalid_grant: invalid login')
  })
})
