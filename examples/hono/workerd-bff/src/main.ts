import { startUserLoginServer } from '@oauth-interceptors/demo-servers'
import { startWorkerd } from './workerd'

// Bundles the worker and serves it with workerd, against an embedded login server (which
// approves every login at once and hosts the API); logs a user in, calls the BFF, logs out.
const login = await startUserLoginServer()
const workerd = await startWorkerd(
  {
    BFF_AUTHORIZE_URL: login.authorizeUrl,
    BFF_TOKEN_URL: login.tokenUrl,
    BFF_CLIENT_ID: login.clientId,
    BFF_CLIENT_SECRET: login.clientSecret,
    BFF_API_URL: login.apiUrl,
  },
  Number(process.env.PORT ?? 0),
)
const bff = workerd.url
console.log(`BFF (workerd) listening on ${bff}`)

try {
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
  const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('sid='))
  const headers = { cookie: cookie?.split(';')[0] ?? '' }
  const orders = await fetch(`${bff}/me/orders?status=open`, { headers })
  console.log('signed in:', orders.status, await orders.text())
  await fetch(`${bff}/logout`, { method: 'POST', headers })
  const after = await fetch(`${bff}/me/orders`, { headers })
  console.log('after logout:', after.status, await after.text())
} finally {
  if (!process.env.PORT) {
    await workerd.close()
    await login.close()
  }
}
