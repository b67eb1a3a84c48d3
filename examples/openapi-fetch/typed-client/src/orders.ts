import { clientCredentials } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import createClient from 'openapi-fetch'
import type { paths } from './schema'

export interface OrdersConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
}

/**
 * A typed client of the Orders API (openapi.yaml, types in schema.d.ts from `pnpm generate`):
 * openapi-fetch builds each request, oauthFetch adds the token and refreshes it on a 401.
 */
export function createOrdersClient(config: OrdersConfig) {
  const fetch = oauthFetch(
    {
      grant: clientCredentials({
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...(config.resource && { resource: config.resource }),
      }),
    },
    // openapi-fetch hands fetch a Request: keep its body so a POST can be sent again after a 401.
    { baseUrl: config.apiUrl, bufferRequestBodies: true },
  )
  return createClient<paths>({ baseUrl: config.apiUrl, fetch })
}
