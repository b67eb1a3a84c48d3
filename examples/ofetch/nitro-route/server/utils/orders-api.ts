import { clientCredentials } from '@oauth-interceptors/core'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import { type $Fetch, ofetch } from 'ofetch'

let api: $Fetch | undefined

/**
 * The orders API client, created once per server process so every route shares one token
 * cache (in Nitro this file sits in server/utils/ and is auto-imported; read the settings
 * from `useRuntimeConfig()` there instead of `process.env`).
 */
export function useOrdersApi(): $Fetch {
  api ??= ofetch.create(
    oauthOptions(
      {
        grant: clientCredentials({
          tokenUrl: required('ORDERS_TOKEN_URL'),
          clientId: required('ORDERS_CLIENT_ID'),
          clientSecret: required('ORDERS_CLIENT_SECRET'),
          ...(process.env.ORDERS_RESOURCE && { resource: process.env.ORDERS_RESOURCE }),
        }),
      },
      // baseURL here (not in ofetch.create) so the hooks know which origin gets the token.
      { baseURL: required('ORDERS_API_URL'), retry: 1, timeout: 10_000 },
    ),
  )
  return api
}

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}
