import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { NestFactory } from '@nestjs/core'
import { startUserLoginServer } from '@oauth-interceptors/demo-servers'
import { type BffConfig, BffModule } from './bff.module'

// With BFF_TOKEN_URL (and the others) set, it serves on PORT until stopped; without, it starts an
// embedded login server (which also hosts the API), logs a user in, calls the BFF, and exits.
const env = process.env
const login = env.BFF_TOKEN_URL ? undefined : await startUserLoginServer()
const config: BffConfig = login ?? {
  authorizeUrl: env.BFF_AUTHORIZE_URL ?? '',
  tokenUrl: env.BFF_TOKEN_URL ?? '',
  clientId: env.BFF_CLIENT_ID ?? '',
  clientSecret: env.BFF_CLIENT_SECRET ?? '',
  apiUrl: env.BFF_API_URL ?? '',
}
const app = await NestFactory.create(BffModule.forRoot(config), { logger: ['error', 'warn'] })
app.enableShutdownHooks()
await app.listen(Number(env.PORT ?? 0), '127.0.0.1')
const bff = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
console.log(`BFF listening on ${bff}`)

if (login) {
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
    const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('sid='))
    const headers = { cookie: cookie?.split(';')[0] ?? '' }
    const orders = await fetch(`${bff}/me/orders?status=open`, { headers })
    console.log('signed in:', orders.status, await orders.text())
    await fetch(`${bff}/logout`, { method: 'POST', headers })
    const after = await fetch(`${bff}/me/orders`, { headers })
    console.log('after logout:', after.status, await after.text())
  } finally {
    await app.close()
    await login.close()
  }
}
