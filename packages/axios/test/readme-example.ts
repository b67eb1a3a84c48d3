// The README's example, type-checked by tsconfig.test.json (not run: it needs real servers).
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials } from '@oauth-interceptors/core'
import axios from 'axios'

const api = axios.create({ baseURL: 'https://api.example.com' })

const detach = oauthInterceptor({
  grant: clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'orders-service',
    clientSecret: process.env.CLIENT_SECRET,
    scope: 'orders:read',
  }),
  // Optional: static headers sent along with the token, to the same origins.
  headers: { 'x-api-key': process.env.API_KEY ?? '' },
}).attach(api)

const { data: orders } = await api.get<{ id: string }[]>('/orders')
// A public endpoint: no token for this one request.
await api.get('/health', { skipAuth: true })
console.log(orders.length)

// Remove both interceptors again, e.g. in a test.
detach()
