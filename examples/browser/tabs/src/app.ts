// The page's script (bundled by server.ts): one tab of a web app calling the Orders API. Every
// tab runs it; browserTokenStore lets them share one token and refresh it once between them.
import { browserTokenStore } from '@oauth-interceptors/browser'
import { createTokenManager, refreshTokenGrant } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'

// Stands in for the app's login (authorization code + PKCE), which is not what this shows.
const session = (await (await fetch('/session')).json()) as { refreshToken: string }

const tokens = createTokenManager({
  grant: refreshTokenGrant({
    tokenUrl: `${location.origin}/oauth/token`,
    clientId: 'orders-web',
    refreshToken: session.refreshToken,
  }),
  // The same name in every tab: one Web Lock for the refresh, one channel for the handoff.
  store: browserTokenStore({ name: 'orders-web' }),
})
const api = oauthFetch({ manager: tokens, origins: [location.origin] })

const output = document.querySelector('output') as HTMLOutputElement
/** Loads the orders and shows the status; a 401 is refreshed (once across tabs) and retried. */
async function loadOrders(): Promise<number> {
  const response = await api('/api/orders')
  const body = (await response.json()) as { orders?: string[] }
  output.value = `${response.status} ${body.orders?.join(', ') ?? ''}`
  return response.status
}
document.querySelector('button')?.addEventListener('click', () => void loadOrders())

// For the driver in tabs.ts (and a console): the same call the button makes.
Object.assign(globalThis, { ordersApp: { loadOrders } })
