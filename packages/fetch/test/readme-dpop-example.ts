// The root README's "DPoP" example, type-checked by tsconfig.test.json (not run: it needs a
// real server; test/dpop.test.ts runs the same setup against oidc-provider through every client).
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { dpop } from '@oauth-interceptors/core/dpop'
// In your code: from '@oauth-interceptors/fetch'
import { oauthFetch } from '../src/index'

const tokens = createTokenManager({
  grant: clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'orders-service',
    clientSecret: process.env.CLIENT_SECRET,
  }),
  dpop: dpop(), // a new non-extractable ES256 key pair, made in this process
})
const api = oauthFetch({ manager: tokens, origins: ['https://orders.example.com'] })

await api('https://orders.example.com/orders?page=2')
