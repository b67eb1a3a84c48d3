import { demoEnvironment } from '@oauth-interceptors/demo-servers'
import { createApi } from './api'

// Runs against TOKEN_URL/API_URL/CLIENT_ID/CLIENT_SECRET when set, else embedded demo servers.
const environment = await demoEnvironment()
try {
  const api = createApi({
    ...environment,
    onEvent: (event) => {
      if (event.type === 'token_received') console.log(`token received (${event.reason})`)
    },
  })
  const ids = ['a-1', 'b-2', 'c-3', 'd-4', 'e-5']
  // Five requests at once share the one token request.
  const orders = await Promise.all(
    ids.map((id) => api.get(`orders/${id}`).json<{ path: string }>()),
  )
  for (const order of orders) console.log('fetched', order.path)
} finally {
  await environment.close()
}
