import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { createInventory } from './inventory'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
try {
  const stockOf = createInventory(environment)
  for (const sku of ['book-42', 'pen 7', 'lamp/3']) {
    console.log(sku, '→', await stockOf(sku))
  }
} finally {
  await environment.close()
}
