import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { createTracedInventory } from './traced-inventory'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
const inventory = createTracedInventory(environment)
try {
  // Three calls, one token request: one span; the other two are cache hits.
  for (const sku of ['book-42', 'pen 7', 'lamp/3']) {
    console.log(sku, '→', await inventory.stockOf(sku))
  }
} finally {
  await inventory.shutdown()
  await environment.close()
}
