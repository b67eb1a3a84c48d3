import {
  clientCredentials,
  createTokenManager,
  isOAuthError,
  type TokenEvent,
} from '@oauth-interceptors/core'
import { discover } from '@oauth-interceptors/core/discovery'
import { tokenExchange } from '@oauth-interceptors/core/token-exchange'
import {
  type AuthorizationServer,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
  TOKEN_EXCHANGE,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { rows } from './support/conformance-clients'

// Token exchange (RFC 8693) against oidc-provider with the grant registered: a BFF trades the
// token each request came with for a token for the API behind it, through every client.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

const BFF = { clientId: 'orders-bff', clientSecret: 'orders-bff-secret-2f8c61d04e' }
const USERS = ['user-app-ada', 'user-app-grace']
const USER_SECRET = 'user-app-secret-0a9e7b3c51'

let as: AuthorizationServer
let api: ResourceServer
/** One access token per "user" (issued to their own client): the subject tokens. */
const userTokens: string[] = []

beforeAll(async () => {
  as = await startAuthorizationServer({
    accessTokenTTL: 60,
    tokenExchange: true,
    extraClients: [
      {
        client_id: BFF.clientId,
        client_secret: BFF.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [TOKEN_EXCHANGE],
      },
      ...USERS.map((client_id) => ({
        client_id,
        client_secret: USER_SECRET,
        token_endpoint_auth_method: 'client_secret_post' as const,
      })),
    ],
  })
  api = await startResourceServer(as, { resource: RESOURCES.jwt, record: true })
  for (const clientId of USERS) {
    const user = createTokenManager({
      grant: clientCredentials({
        tokenUrl: as.tokenUrl,
        clientId,
        clientSecret: USER_SECRET,
        clientAuth: 'client_secret_post',
        resource: RESOURCES.opaque,
      }),
    })
    userTokens.push((await user.getToken()).accessToken)
  }
})

afterAll(async () => {
  await api?.close()
  await as?.close()
})

/** Exchanges by the BFF from now on. */
function exchangesFrom(start = as.tokenExchanges.length) {
  return () => as.tokenExchanges.slice(start)
}

function bffManager(events?: TokenEvent[]) {
  return createTokenManager({
    grant: tokenExchange({ tokenUrl: as.tokenUrl, ...BFF, resource: RESOURCES.jwt }),
    ...(events && { onEvent: (event: TokenEvent) => events.push(event) }),
  })
}

describe('token exchange against oidc-provider', () => {
  it.each(rows)(
    '$name: exchanges each user token once for an API token, and the API accepts it',
    async (row) => {
      const exchanges = exchangesFrom()
      const apiRequests = api.requests.length
      const client = row.create(
        { manager: bffManager(), origins: new URL(api.url).origin },
        { baseUrl: api.url },
      )

      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          client.send({
            path: '/orders',
            tokenOptions: { subjectToken: userTokens[i % 2] as string },
          }),
        ),
      )

      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
      expect(
        exchanges()
          .map((exchange) => exchange.subjectClientId)
          .sort(),
      ).toEqual(USERS)
      expect(exchanges().every((exchange) => exchange.clientId === BFF.clientId)).toBe(true)
      // Each user's requests carried the token exchanged for that user's token.
      const sent = api.requests.slice(apiRequests).map((request) => request.headers.authorization)
      const issued = exchanges().map((exchange) => `Bearer ${exchange.issued}`)
      expect(new Set(sent)).toEqual(new Set(issued))
    },
  )

  it('sends the grant with the subject token type, authenticated as the BFF', async () => {
    const start = as.tokenRequests.length
    await bffManager().getToken({ subjectToken: userTokens[0] as string })

    expect(as.tokenRequests.slice(start)).toEqual([
      expect.objectContaining({
        clientId: BFF.clientId,
        grantType: TOKEN_EXCHANGE,
        authorization: 'basic',
        resource: RESOURCES.jwt,
        status: 200,
      }),
    ])
  })

  it('finds the token endpoint by discovery', async () => {
    const exchanges = exchangesFrom()
    const tokens = createTokenManager({
      grant: tokenExchange({ issuer: discover(as.issuer), ...BFF, resource: RESOURCES.jwt }),
    })

    const token = await tokens.getToken({ subjectToken: userTokens[1] as string })

    expect(exchanges()).toEqual([expect.objectContaining({ issued: token.accessToken })])
  })

  it('sends the actor token along (delegation)', async () => {
    const exchanges = exchangesFrom()
    const tokens = createTokenManager({
      grant: tokenExchange({
        tokenUrl: as.tokenUrl,
        ...BFF,
        resource: RESOURCES.jwt,
        actorToken: userTokens[1] as string,
      }),
    })

    await tokens.getToken({ subjectToken: userTokens[0] as string })

    expect(exchanges()).toEqual([
      expect.objectContaining({ subjectClientId: USERS[0], actorClientId: USERS[1] }),
    ])
  })

  it('surfaces a subject token the server refuses as invalid_grant, with no token or secret in it', async () => {
    const events: TokenEvent[] = []
    const forged = 'forged-subject-token-5e1d0c9b7a'

    const error = await bffManager(events)
      .getToken({ subjectToken: forged })
      .catch((e: unknown) => e)

    expect(isOAuthError(error) && error.code).toBe('invalid_grant')
    const text = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify(events)}`
    expect(text).not.toContain(forged)
    expect(text).not.toContain(BFF.clientSecret)
  })
})
