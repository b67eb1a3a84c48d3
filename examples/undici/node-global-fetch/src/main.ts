import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { installOAuth, stockOf } from './inventory'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
const uninstall = installOAuth(environment)
try {
  for (const sku of ['book-42', 'pen 7', 'lamp/3']) {
    console.log(sku, '→', await stockOf(environment.apiUrl, sku))
  }
} finally {
  uninstall()
  await environment.close()
}
