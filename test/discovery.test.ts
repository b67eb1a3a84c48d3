import {
  ConfigError,
  clientCredentials,
  createTokenManager,
  type FetchLike,
} from '@oauth-interceptors/core'
import { discover } from '@oauth-interceptors/core/discovery'
import { revocation } from '@oauth-interceptors/core/revocation'
import {
  type AuthorizationServer,
  basicCredentials,
  DEMO_CLIENTS,
  RESOURCES,
  startAuthorizationServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// A real oidc-provider in this process, on 127.0.0.1, which serves its metadata at
// /.well-known/oauth-authorization-server (tried first) and /.well-known/openid-configuration.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

let as: AuthorizationServer

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTTL: 30 })
})

afterAll(async () => {
  await as?.close()
})

/** A fetch that records the URL and method of every request it sends. */
function recordingFetch(): { fetch: FetchLike; sent: string[] } {
  const sent: string[] = []
  return {
    sent,
    fetch: (input, init) => {
      sent.push(`${init.method ?? 'GET'} ${input}`)
      return fetch(input, init)
    },
  }
}

async function introspect(token: string): Promise<{ active: boolean; client_id?: string }> {
  const response = await fetch(as.introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: basicCredentials(as.introspectionClient),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  })
  return (await response.json()) as { active: boolean; client_id?: string }
}

describe('discovery (RFC 8414, OIDC Discovery) against oidc-provider', () => {
  it('finds the token and revocation endpoints from the issuer; revoke() makes the token inactive', async () => {
    const client = DEMO_CLIENTS.basic
    const { fetch, sent } = recordingFetch()
    const manager = createTokenManager({
      revocation: revocation(),
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        clientAuth: 'auto',
        resource: RESOURCES.opaque,
      }),
      fetch,
    })
    const { accessToken } = await manager.getToken()
    expect(await introspect(accessToken)).toMatchObject({
      active: true,
      client_id: client.clientId,
    })
    expect(as.tokenRequests.at(-1)).toMatchObject({
      clientId: client.clientId,
      authorization: 'basic',
    })
    expect(manager.isTokenEndpoint(as.tokenUrl)).toBe(true)

    expect(await manager.revoke()).toEqual({ accessTokens: 1, refreshTokens: 0 })
    expect(await introspect(accessToken)).toEqual({ active: false })
    expect(sent).toEqual([
      `GET ${as.issuer}/.well-known/oauth-authorization-server`,
      `POST ${as.tokenUrl}`,
      `POST ${as.revocationUrl}`,
    ])
  })

  it('sends a configured method the server lists (client_secret_post)', async () => {
    const client = DEMO_CLIENTS.post
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        clientAuth: 'client_secret_post',
        resource: RESOURCES.jwt,
      }),
    })
    await expect(manager.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(as.tokenRequests.at(-1)).toMatchObject({
      clientId: client.clientId,
      authorization: 'none',
    })
  })

  it("refuses an issuer that differs from the metadata's (a trailing slash), naming issuer", async () => {
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(`${as.issuer}/`),
        clientId: DEMO_CLIENTS.basic.clientId,
        clientSecret: DEMO_CLIENTS.basic.clientSecret,
      }),
    })
    const error = await manager.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'issuer' })
    expect((error as Error).message).toContain(`names "${as.issuer}"`)
    expect((error as Error).message).not.toContain(DEMO_CLIENTS.basic.clientSecret)
  })

  it('refuses a method the server does not list, naming clientAuth and the list', async () => {
    // The real metadata, with client_secret_post taken out of the list.
    const trimmed: FetchLike = async (input, init) => {
      const response = await fetch(input, init)
      if (!input.includes('/.well-known/')) return response
      const body = (await response.json()) as Record<string, unknown>
      const methods = body.token_endpoint_auth_methods_supported as string[]
      body.token_endpoint_auth_methods_supported = methods.filter((m) => m !== 'client_secret_post')
      return new Response(JSON.stringify(body), { status: 200 })
    }
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: DEMO_CLIENTS.post.clientId,
        clientSecret: DEMO_CLIENTS.post.clientSecret,
        clientAuth: 'client_secret_post',
      }),
      fetch: trimmed,
    })
    const error = await manager.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ option: 'clientAuth' })
    expect((error as Error).message).toMatch(
      /"client_secret_post" is not among .*client_secret_basic/,
    )
  })

  it('refuses metadata without a token endpoint', async () => {
    const without: FetchLike = async (input, init) => {
      const response = await fetch(input, init)
      if (!input.includes('/.well-known/')) return response
      const body = (await response.json()) as Record<string, unknown>
      delete body.token_endpoint
      return new Response(JSON.stringify(body), { status: 200 })
    }
    const manager = createTokenManager({
      grant: clientCredentials({
        issuer: discover(as.issuer),
        clientId: DEMO_CLIENTS.basic.clientId,
        clientSecret: DEMO_CLIENTS.basic.clientSecret,
      }),
      fetch: without,
    })
    await expect(manager.getToken()).rejects.toMatchObject({
      name: 'ConfigError',
      option: 'issuer',
      message: expect.stringContaining('has no token_endpoint'),
    })
  })
})
