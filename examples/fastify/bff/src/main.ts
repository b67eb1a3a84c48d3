import { startUserLoginServer } from '@oauth-interceptors/demo-servers'
import { createBff } from './app'

// Users log in at an embedded login server, which also hosts the API called on their behalf.
const login = await startUserLoginServer()
const app = createBff(login)
const bff = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
console.log(`BFF listening on ${bff}`)

try {
  // What a browser does: log in (the login server approves at once), then call the BFF.
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
  const cookie = callback.headers
    .getSetCookie()
    .find((c) => c.startsWith('sid='))
    ?.split(';')[0]
  const headers = { cookie: cookie ?? '' }
  const orders = await fetch(`${bff}/me/orders?status=open`, { headers })
  console.log('signed in:', orders.status, await orders.text())
  await fetch(`${bff}/logout`, { method: 'POST', headers })
  const after = await fetch(`${bff}/me/orders`, { headers })
  console.log('after logout:', after.status, await after.text())
} finally {
  if (!process.env.PORT) {
    await app.close()
    await login.close()
  }
}
