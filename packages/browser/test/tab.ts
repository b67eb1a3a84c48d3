import { createTokenManager, refreshTokenGrant } from '@oauth-interceptors/core'
import type { SharedTokenStore } from '@oauth-interceptors/core/store'
import { oauthFetch } from '@oauth-interceptors/fetch'

/** What one tab of the app does: calls the API with its token, refreshed through `store`. */
export function openTab(options: {
  store: SharedTokenStore
  tokenUrl: string
  apiUrl: string
  refreshToken: string
}) {
  const tokens = createTokenManager({
    grant: refreshTokenGrant({
      tokenUrl: options.tokenUrl,
      clientId: 'web-app',
      refreshToken: options.refreshToken,
    }),
    store: options.store,
  })
  const authedFetch = oauthFetch({ manager: tokens, origins: [new URL(options.apiUrl).origin] })
  return {
    /** The API's status for one call (a 401 is refreshed and retried once by the adapter). */
    call: async () => (await authedFetch(options.apiUrl)).status,
    /** The access token the tab now holds. */
    token: async () => (await tokens.getToken()).accessToken,
    stats: () => tokens.stats(),
  }
}
