// The README's example, type-checked by tsconfig.test.json (not run: it needs real endpoints).
import { clientCredentials } from '@oauth-interceptors/core'
import { oauthInterceptor } from '@oauth-interceptors/undici'
import { Agent, interceptors, request, setGlobalDispatcher } from 'undici'

const dispatcher = new Agent().compose(
  oauthInterceptor({
    grant: clientCredentials({
      tokenUrl: 'https://auth.example.com/oauth/token',
      clientId: 'my-service',
      clientSecret: process.env.CLIENT_SECRET ?? '',
    }),
    // Required: a dispatcher has no base URL. Only these origins ever see the token.
    origins: ['https://api.example.com'],
  }),
  // After the OAuth interceptor, so that every redirect hop passes through it.
  interceptors.redirect({ maxRedirections: 5 }),
)

// Per request…
export const { statusCode, body } = await request('https://api.example.com/orders', { dispatcher })
// …or for the whole process: the global fetch and undici.request use it.
setGlobalDispatcher(dispatcher)
export const response = await fetch('https://api.example.com/orders')
