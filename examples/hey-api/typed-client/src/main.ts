import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { createOrder, getStock } from './client'
import { createOrdersClient } from './orders'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
try {
  const client = createOrdersClient(environment)
  const stock = await getStock({ client, path: { sku: 'book-42' } })
  console.log('GET /stock/book-42 →', stock.response.status, stock.data?.path)
  const order = await createOrder({ client, body: { item: 'book-42', quantity: 2 } })
  console.log('POST /orders →', order.response.status, order.data?.body)
} finally {
  await environment.close()
}
