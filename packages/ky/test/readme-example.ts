// The README's example, type-checked by tsconfig.test.json (not run: it calls a real API).
import { clientCredentials } from '@oauth-interceptors/core'
import { oauthOptions } from '@oauth-interceptors/ky'
import ky from 'ky'

const API = 'https://api.example.com'

export const api = ky.create({
  prefixUrl: API,
  ...oauthOptions(
    {
      grant: clientCredentials({
        tokenUrl: 'https://auth.example.com/oauth/token',
        clientId: 'my-service',
        clientSecret: process.env.CLIENT_SECRET ?? '',
      }),
    },
    { prefixUrl: API }, // ky cannot show the adapter its prefixUrl: its origin gets the token
  ),
})

export const orders = await api.get('orders').json<{ id: string }[]>()
// A request that must go out without the token:
export const health = await api.get('health', { skipAuth: true }).text()
