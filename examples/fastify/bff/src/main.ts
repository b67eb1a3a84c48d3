import { startUserLoginServer, visitAsBrowser } from '@oauth-interceptors/demo-servers'
import { createBff } from './app'

// Users log in at an embedded login server, which also hosts the API called on their behalf.
const login = await startUserLoginServer()
const app = createBff(login)
const bff = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
console.log(`BFF listening on ${bff}`)

try {
  await visitAsBrowser(bff)
} finally {
  if (!process.env.PORT) {
    await app.close()
    await login.close()
  }
}
