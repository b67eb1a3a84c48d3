// The root README's "BFF" example, type-checked by tsconfig.test.json (not run: it needs a real
// login; test/conformance.test.ts and packages/core/test/sessions.test.ts run the same calls).
import { createTokenManager, LoginRequiredError } from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import axios from 'axios'
// In your code: from '@oauth-interceptors/axios'
import { oauthInterceptor } from '../src/index'

const tokens = createTokenManager({
  grant: userTokens({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'web-bff',
    clientSecret: process.env.CLIENT_SECRET,
  }),
  // store: redisTokenStore({ client: redis }), // for several BFF instances
})
const orders = axios.create({ baseURL: 'https://orders.example.com' })
oauthInterceptor(tokens).attach(orders)

// The login callback, after the authorization-code exchange (openid-client, Auth.js, …):
async function onLogin(sessionId: string, tokenResponse: Record<string, unknown>) {
  await tokens.setSession(sessionId, tokenResponse)
}

// A proxied API call on the user's behalf:
async function listOrders(sessionId: string) {
  try {
    return (await orders.get('/orders', { tokenOptions: { session: sessionId } })).data
  } catch (error) {
    if (error instanceof LoginRequiredError) return { redirect: '/login' }
    throw error
  }
}

// Logout:
async function onLogout(sessionId: string) {
  await tokens.endSession(sessionId) // { revoke: true } revokes its tokens too, with revocation()
}

await onLogin('session-id-from-the-cookie', { access_token: '…', refresh_token: '…' })
await listOrders('session-id-from-the-cookie')
await onLogout('session-id-from-the-cookie')
