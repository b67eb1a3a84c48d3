import { createTokenManager, type TokenManager } from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import { type BffConfig, bffConfig } from '@oauth-interceptors/example-bff-login'
import { oauthOptions } from '@oauth-interceptors/ofetch'

interface UserApi {
  config: BffConfig
  tokens: TokenManager
  api: typeof $fetch
}

let created: UserApi | undefined

/**
 * The BFF's login client, its `userTokens()` manager and the API client (`$fetch.create()` with
 * `oauthOptions`), made once per server process so every route shares them. Read from
 * `BFF_AUTHORIZE_URL`, `BFF_TOKEN_URL`, `BFF_CLIENT_ID`, `BFF_CLIENT_SECRET` and `BFF_API_URL`.
 */
export function useUserApi(): UserApi {
  if (created) return created
  const config = bffConfig(process.env)
  const tokens = createTokenManager({
    grant: userTokens({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
    }),
  })
  // Nitro's global $fetch (ofetch); baseURL goes to oauthOptions so it knows the API's origin.
  const api = $fetch.create(oauthOptions(tokens, { baseURL: config.apiUrl, timeout: 10_000 }))
  created = { config, tokens, api }
  return created
}
