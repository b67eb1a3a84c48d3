import type { AddressInfo } from 'node:net'
import { demoEnvironment, startUserLoginServer } from '@oauth-interceptors/demo-servers'
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
  const started = await fetch(`${bff}/login`, { redirect: 'manual' })
  const approved = await fetch(started.headers.get('location') ?? '', { redirect: 'manual' })
  const callback = await fetch(approved.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: {
      cookie: started.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
    },
  })
  const session = callback.headers.getSetCookie().find((c) => c.startsWith('sid='))
  const cookie = session?.split(';')[0] ?? ''
  const mine = await fetch(`${bff}/me/orders?status=open`, { headers: { cookie } })
  console.log('signed in:', mine.status, await mine.text())
  await fetch(`${bff}/logout`, { method: 'POST', headers: { cookie } })
  const after = await fetch(`${bff}/me/orders`, { headers: { cookie } })
  console.log('after logout:', after.status, await after.text())
} finally {
  if (!process.env.PORT) {
    server.closeAllConnections()
    server.close()
    await environment.close()
    await login.close()
  }
}
