// The README's example, type-checked by tsconfig.test.json (not run: it needs real endpoints).
import { clientCredentials, isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'

const authedFetch = oauthFetch({
  grant: clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'my-service',
    clientSecret: process.env.CLIENT_SECRET ?? '',
    scope: 'orders:read',
  }),
  // Only these origins ever see the token, also after a redirect.
  origins: ['https://api.example.com'],
})

export async function listOrders(): Promise<unknown> {
  try {
    const response = await authedFetch('https://api.example.com/orders', {
      signal: AbortSignal.timeout(5_000),
    })
    if (!response.ok) throw new Error(`Orders API answered ${response.status}`)
    return await response.json()
  } catch (error) {
    // Token errors come from core (OAuthError, TokenEndpointError); network errors stay TypeErrors.
    if (isOAuthInterceptorsError(error)) console.error('No token:', error.code)
    throw error
  }
}

// One request without the token:
export const health = () => authedFetch('https://api.example.com/health', { skipAuth: true })
