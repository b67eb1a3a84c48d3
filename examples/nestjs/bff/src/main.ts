import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { NestFactory } from '@nestjs/core'
import { startUserLoginServer, visitAsBrowser } from '@oauth-interceptors/demo-servers'
import { bffConfig } from '@oauth-interceptors/example-bff-login'
import { BffModule } from './bff.module'

// With BFF_TOKEN_URL (and the others) set, it serves on PORT until stopped; without, it starts an
// embedded login server (which also hosts the API), logs a user in, calls the BFF, and exits.
const env = process.env
const login = env.BFF_TOKEN_URL ? undefined : await startUserLoginServer()
const config = login ?? bffConfig(env)
const app = await NestFactory.create(BffModule.forRoot(config), { logger: ['error', 'warn'] })
app.enableShutdownHooks()
await app.listen(Number(env.PORT ?? 0), '127.0.0.1')
const bff = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
console.log(`BFF listening on ${bff}`)

if (login) {
  try {
    await visitAsBrowser(bff)
  } finally {
    await app.close()
    await login.close()
  }
}
