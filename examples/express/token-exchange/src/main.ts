import type { AddressInfo } from 'node:net'
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import {
  RESOURCES,
  startAuthorizationServer,
  startResourceServer,
  TOKEN_EXCHANGE,
} from '@oauth-interceptors/demo-servers'
import { createGateway } from './app'

// Embedded demo servers: oidc-provider with token exchange on, and the orders API behind.
const gatewayClient = { clientId: 'orders-gateway', clientSecret: 'orders-gateway-demo-secret' }
const callers = ['mobile-app', 'partner-portal']
const as = await startAuthorizationServer({
  accessTokenTTL: 60,
  tokenExchange: true,
  extraClients: [
    {
      client_id: gatewayClient.clientId,
      client_secret: gatewayClient.clientSecret,
      grant_types: [TOKEN_EXCHANGE],
    },
    ...callers.map((client_id) => ({ client_id, client_secret: `${client_id}-demo-secret` })),
  ],
})
const api = await startResourceServer(as, { resource: RESOURCES.jwt })
const { app, stats } = createGateway({
  apiUrl: api.url,
  tokenUrl: as.tokenUrl,
  ...gatewayClient,
  resource: RESOURCES.jwt,
})
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
console.log(`gateway listening on ${gateway}`)

try {
  // Each caller has a token of its own (here: client credentials for the gateway's audience).
  const callerTokens = await Promise.all(
    callers.map(async (clientId) => {
      const caller = createTokenManager({
        grant: clientCredentials({
          tokenUrl: as.tokenUrl,
          clientId,
          clientSecret: `${clientId}-demo-secret`,
          resource: RESOURCES.opaque,
        }),
      })
      return (await caller.getToken()).accessToken
    }),
  )
  // Five calls per caller, all at once: one exchange per caller.
  const replies = await Promise.all(
    callerTokens.flatMap((token) =>
      Array.from({ length: 5 }, () =>
        fetch(`${gateway}/orders`, { headers: { authorization: `Bearer ${token}` } }),
      ),
    ),
  )
  console.log('statuses:', replies.map((reply) => reply.status).join(' '))
  const anonymous = await fetch(`${gateway}/orders`)
  console.log('without a token:', anonymous.status)
  const exchanges = as.tokenExchanges.map((exchange) => exchange.subjectClientId)
  console.log(`token exchanges: ${exchanges.length} (${exchanges.join(', ')})`)
  console.log('token counters:', stats())
} finally {
  server.closeAllConnections()
  server.close()
  await api.close()
  await as.close()
}
