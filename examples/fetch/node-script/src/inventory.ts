import { clientCredentials, isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'

export interface InventoryConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
}

/** Reads stock levels from the inventory API with fetch; only `apiUrl`'s origin gets the token. */
export function createInventory(config: InventoryConfig) {
  const authedFetch = oauthFetch(
    {
      grant: clientCredentials({
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...(config.resource && { resource: config.resource }),
      }),
    },
    // Sets the allowed origin; fetch itself has no base URL, so URLs below are absolute.
    { baseUrl: config.apiUrl },
  )

  return async function stockOf(sku: string): Promise<unknown> {
    try {
      const response = await authedFetch(
        new URL(`/stock/${encodeURIComponent(sku)}`, config.apiUrl),
        {
          signal: AbortSignal.timeout(5_000),
        },
      )
      if (!response.ok) throw new Error(`Inventory API answered ${response.status}`)
      return await response.json()
    } catch (error) {
      // Token errors (OAuthError, TokenEndpointError) carry a code and never a secret.
      if (isOAuthInterceptorsError(error))
        throw new Error(`No token for the inventory API: ${error.code}`)
      throw error
    }
  }
}
