import { createTokenManager, type TokenManager } from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import { type BffConfig, bffConfig } from '@oauth-interceptors/example-bff-login'
import { oauthFetch } from '@oauth-interceptors/fetch'

export interface UserApi {
  config: BffConfig
  tokens: TokenManager
  api: ReturnType<typeof oauthFetch>
}

/**
 * Next patches `fetch` to cache responses; a token request (a POST with the client's
 * credentials) must never be answered from a cache, nor an API call made with a user's token.
 */
export const noStoreFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, cache: 'no-store' })

// On globalThis: Next loads each route handler as its own module graph, and every route must
// see the same sessions (the callback sets them, /me/orders reads them).
const shared = globalThis as typeof globalThis & { bffUserApi?: UserApi }

/**
 * The BFF's login client, its `userTokens()` manager and `oauthFetch`, made once per server
 * process. Read from `BFF_AUTHORIZE_URL`, `BFF_TOKEN_URL`, `BFF_CLIENT_ID`, `BFF_CLIENT_SECRET`
 * and `BFF_API_URL` at request time (not at build time).
 */
export function userApi(): UserApi {
  if (shared.bffUserApi) return shared.bffUserApi
  const config = bffConfig(process.env)
  const tokens = createTokenManager({
    grant: userTokens({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
    }),
    fetch: noStoreFetch,
  })
  const api = oauthFetch(tokens, { baseUrl: config.apiUrl, fetch: noStoreFetch })
  shared.bffUserApi = { config, tokens, api }
  return shared.bffUserApi
}

/**
 * The callback URL as the browser reached this app (its `Host` header): `request.url` in a
 * route handler names the host Next listens on (`localhost`), not the one the browser used.
 */
export function callbackUrl(request: Request): string {
  const url = new URL(request.url)
  return `${url.protocol}//${request.headers.get('host') ?? url.host}/callback`
}
