// The README's example, type-checked by tsconfig.test.json (not run: it needs a real API).
import { clientCredentials, isOAuthError } from '@oauth-interceptors/core'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import { FetchError, ofetch } from 'ofetch'

const auth = oauthOptions(
  {
    grant: clientCredentials({
      tokenUrl: 'https://auth.example.com/oauth/token',
      clientId: 'orders-service',
      clientSecret: process.env.CLIENT_SECRET ?? '',
      scope: 'orders:read',
    }),
  },
  // Your own ofetch options: oauthOptions sees the baseURL, and keeps your hooks.
  {
    baseURL: 'https://api.example.com',
    retry: 2,
    onRequest: ({ request }) => {
      console.debug('→', request)
    },
  },
)
export const api = ofetch.create(auth)

export async function listOrders(): Promise<unknown> {
  try {
    return await api('/orders', { query: { status: 'open' }, timeout: 5_000 })
  } catch (error) {
    // HTTP errors stay ofetch's FetchError; a failing token endpoint throws core's errors.
    if (error instanceof FetchError && error.status === 404) return []
    if (isOAuthError(error)) console.error('token endpoint said', error.error)
    throw error
  }
}

// A request that must go out without the token:
export const health = () => api('/health', { skipAuth: true })

// ofetch 1.x replaces the instance's hooks with per-request ones: spread ours back in.
export const traced = () =>
  api('/orders', {
    onResponse: [...auth.onResponse, ({ response }) => console.debug('←', response.status)],
  })
