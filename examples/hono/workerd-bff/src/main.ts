import {
  bffEnvironment,
  startUserLoginServer,
  visitAsBrowser,
} from '@oauth-interceptors/demo-servers'
import { startWorkerd } from './workerd'

// Bundles the worker and serves it with workerd, against an embedded login server (which
// approves every login at once and hosts the API); logs a user in, calls the BFF, logs out.
const login = await startUserLoginServer()
const workerd = await startWorkerd(bffEnvironment(login), Number(process.env.PORT ?? 0))
const bff = workerd.url
console.log(`BFF (workerd) listening on ${bff}`)

try {
  await visitAsBrowser(bff)
} finally {
  if (!process.env.PORT) {
    await workerd.close()
    await login.close()
  }
}
