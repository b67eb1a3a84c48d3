import { clientCredentials } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { type Client, createClient, createConfig } from './client/client'

export interface OrdersConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
}

/**
 * The fetch client that @hey-api/openapi-ts generated from the Orders API (openapi.yaml, code in
 * src/client from `pnpm generate`), with oauthFetch as its fetch: the generated SDK functions
 * (`getStock`, `createOrder`) take it as `client`, and every call they make carries the token.
 */
export function createOrdersClient(config: OrdersConfig): Client {
  const fetch = oauthFetch(
    {
      grant: clientCredentials({
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...(config.resource && { resource: config.resource }),
      }),
    },
    // The client hands fetch a Request: keep its body so a POST can be sent again after a 401.
    { baseUrl: config.apiUrl, bufferRequestBodies: true },
  )
  return createClient(createConfig({ baseUrl: config.apiUrl, fetch }))
}
