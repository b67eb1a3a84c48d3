import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { createOrdersApi } from './orders-api'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
try {
  const orders = createOrdersApi(environment)
  // 20 calls at once: one token request between them.
  const results = await Promise.all([
    ...Array.from({ length: 19 }, () => orders.listOrders()),
    orders.createOrder({ item: 'book', quantity: 2 }),
  ])
  console.log('last response:', results.at(-1))
  console.log(`${results.length} concurrent API calls, ${orders.stats().requested} token request`)
} finally {
  await environment.close()
}
