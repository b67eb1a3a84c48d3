import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials } from '@oauth-interceptors/core'
import axios from 'axios'

export interface OrdersApiConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  /** The API's resource indicator (RFC 8707), if your authorization server uses them. */
  resource?: string
}

/**
 * One axios instance for the whole service. The interceptor gets a token with client
 * credentials, caches it, refreshes it before it expires and, on a 401, refreshes once and
 * retries once; concurrent requests share one token request. The token goes only to `apiUrl`'s
 * origin.
 */
export function createOrdersApi(config: OrdersApiConfig) {
  const http = axios.create({ baseURL: config.apiUrl, timeout: 10_000 })
  const auth = oauthInterceptor({
    grant: clientCredentials({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.resource && { resource: config.resource }),
    }),
  })
  auth.attach(http)
  return {
    listOrders: async () => (await http.get<unknown>('/orders')).data,
    createOrder: async (order: { item: string; quantity: number }) =>
      (await http.post<unknown>('/orders', order)).data,
    /** Token requests made so far, for metrics. */
    stats: () => auth.manager.stats(),
  }
}
