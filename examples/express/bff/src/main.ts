import type { AddressInfo } from 'node:net'
import {
  demoEnvironment,
  startUserLoginServer,
  visitAsBrowser,
} from '@oauth-interceptors/demo-servers'
import { createBff } from './app'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
// Users log in at an embedded login server, which also hosts the API called on their behalf.
const environment = await demoEnvironment()
const login = await startUserLoginServer()
const server = createBff({ ...environment, users: login }).listen(
  Number(process.env.PORT ?? 0),
  '127.0.0.1',
)
await new Promise((resolve) => server.once('listening', resolve))
const bff = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
console.log(`BFF listening on ${bff}`)

try {
  // What a browser would do: call the BFF's own origin, with no token of its own.
  const calls = await Promise.all([
    fetch(`${bff}/api/orders?status=open`),
    fetch(`${bff}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'session=browser-only' },
      body: JSON.stringify({ item: 'book', quantity: 1 }),
    }),
    fetch(`${bff}/dashboard`),
  ])
  for (const response of calls) console.log(response.status, await response.text())
  console.log('token counters:', (await (await fetch(`${bff}/healthz`)).json()) as unknown)

  // A user logs in (the login server approves at once), then calls /me/orders with the cookie.
  await visitAsBrowser(bff)
} finally {
  if (!process.env.PORT) {
    server.closeAllConnections()
    server.close()
    await environment.close()
    await login.close()
  }
}
