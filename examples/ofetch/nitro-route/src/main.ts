import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { nodeListener } from './app'

// Nitro reads runtime config from the environment; point it at TOKEN_URL/API_URL/… when set,
// else at embedded demo servers.
const environment = await demoEnvironment()
Object.assign(process.env, {
  ORDERS_TOKEN_URL: environment.tokenUrl,
  ORDERS_API_URL: environment.apiUrl,
  ORDERS_CLIENT_ID: environment.clientId,
  ORDERS_CLIENT_SECRET: environment.clientSecret,
  ORDERS_RESOURCE: environment.resource,
})

const server = createServer(nodeListener()).listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders?status=open`
try {
  // Three requests to the route at once: one token request between them.
  const responses = await Promise.all(Array.from({ length: 3 }, () => fetch(url)))
  for (const response of responses) console.log(response.status, await response.text())
} finally {
  server.closeAllConnections()
  server.close()
  await environment.close()
}
