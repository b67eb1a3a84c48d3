import { inspect } from 'node:util'
import nock from 'nock'
import { describe, expect, it } from 'vitest'
import {
  basicAuthorization,
  clientCredentials,
  createTokenManager,
  type FetchLike,
  TokenEndpointError,
  type TokenEvent,
} from '../src/index'
import { ISSUER, tokenEndpoint, useNock } from './helpers'

useNock()

const SECRET = 'client-secret-Rd4'
// A path and query that may carry a tenant or a key: no message may name them.
const PATH = '/tenant-7f3/oauth/token?key=q-Wv20'
const TOKEN_URL = `${ISSUER}${PATH}`
const ELSEWHERE = 'https://elsewhere.example.test'
const grant = () =>
  clientCredentials({
    tokenUrl: TOKEN_URL,
    clientId: 'svc',
    clientSecret: SECRET,
    clientAuth: 'client_secret_post',
  })

/** Every request that reached the redirect target; it must stay empty. */
function redirectTarget(): string[] {
  const seen: string[] = []
  nock(ELSEWHERE)
    .persist()
    .post(/.*/)
    .optionally()
    .reply((uri) => {
      seen.push(uri)
      return [200, { access_token: 'stolen', token_type: 'Bearer', expires_in: 60 }]
    })
    .get(/.*/)
    .optionally()
    .reply((uri) => {
      seen.push(uri)
      return [200, { access_token: 'stolen', token_type: 'Bearer', expires_in: 60 }]
    })
  return seen
}

describe('token requests never follow redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'refuses a %i answer with one request, names only the endpoint origin, and sends nothing to the Location',
    async (status) => {
      const target = redirectTarget()
      const seen = tokenEndpoint(
        () => [status, '', { location: `${ELSEWHERE}/collect?from=token` }],
        { path: PATH },
      )
      const events: TokenEvent[] = []
      const manager = createTokenManager({ grant: grant(), onEvent: (e) => events.push(e) })
      const error = await manager.getToken().catch((e: unknown) => e)

      expect(error).toBeInstanceOf(TokenEndpointError)
      expect(error).toMatchObject({ code: 'http_error', status, transient: false })
      expect((error as Error).message).toBe(
        `The token endpoint at ${ISSUER} answered HTTP ${status}, a redirect; token requests never follow redirects, so the credentials go nowhere else. Set the token URL to the address that answers the token request itself`,
      )
      // Not transient: no retry, so exactly one request, and none to the redirect target.
      expect(seen).toHaveLength(1)
      expect(target).toEqual([])

      const views = [
        String(error),
        JSON.stringify(error),
        inspect(error, { depth: 10, showHidden: true }),
        // The events' cache key holds the token URL by design; their errors may not.
        inspect(
          events.map((e) => ('error' in e ? e.error : undefined)),
          { depth: 10, showHidden: true },
        ),
      ]
      const hidden = ['tenant-7f3', 'q-Wv20', 'elsewhere', 'collect', SECRET]
      hidden.push(basicAuthorization('svc', SECRET).slice(6))
      for (const view of views) for (const word of hidden) expect(view).not.toContain(word)
      expect(events.map((e) => e.type)).toContain('token_failed')
    },
  )

  it('a failed redirect is not cached: the next getToken() asks again', async () => {
    let calls = 0
    const seen = tokenEndpoint(
      () =>
        ++calls === 1
          ? [302, '', { location: `${ELSEWHERE}/collect` }]
          : [200, { access_token: 'at-after', token_type: 'Bearer', expires_in: 60 }],
      { path: PATH },
    )
    const manager = createTokenManager({ grant: grant() })
    await expect(manager.getToken()).rejects.toMatchObject({ code: 'http_error', status: 302 })
    await expect(manager.getToken()).resolves.toMatchObject({ accessToken: 'at-after' })
    expect(seen).toHaveLength(2)
  })

  it("sends every token request with redirect: 'manual' (workerd rejects 'error')", async () => {
    const inits: RequestInit[] = []
    const fetch: FetchLike = async (_url, init) => {
      inits.push(init)
      return Response.json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 60 })
    }
    await createTokenManager({ grant: grant(), fetch }).getToken()
    expect(inits).toHaveLength(1)
    expect(inits[0]).toMatchObject({ method: 'POST', redirect: 'manual' })
  })

  it("refuses a browser's opaque redirect (status 0) without reading its body", async () => {
    const calls: string[] = []
    const fetch: FetchLike = async (url) => {
      calls.push(url)
      const response = new Response(null)
      Object.defineProperty(response, 'type', { value: 'opaqueredirect' })
      Object.defineProperty(response, 'status', { value: 0 })
      Object.defineProperty(response, 'text', {
        value: () => Promise.reject(new Error('an opaque body was read')),
      })
      return response
    }
    const error = await createTokenManager({ grant: grant(), fetch })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenEndpointError)
    expect(error).toMatchObject({ code: 'http_error', status: undefined, transient: false })
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The token endpoint at ${ISSUER} answered a redirect; token requests never follow redirects`,
      ),
    )
    expect(calls).toEqual([TOKEN_URL])
  })
})
