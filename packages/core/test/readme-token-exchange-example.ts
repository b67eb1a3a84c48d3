// The README's "Token exchange" example, type-checked by tsconfig.test.json (not run: it needs a
// real server; test/token-exchange.test.ts runs the same calls against oidc-provider).
// In your code: from '@oauth-interceptors/core' and '@oauth-interceptors/core/token-exchange'
import { createTokenManager } from '../src/index'
import { tokenExchange } from '../src/token-exchange'

const tokens = createTokenManager({
  grant: tokenExchange({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'orders-gateway',
    clientSecret: process.env.CLIENT_SECRET,
    audience: 'https://orders.example.com',
  }),
})

// In a route handler: the caller's own access token is the subject token.
const callerToken = 'the token of the incoming request'
await tokens.getToken({ subjectToken: callerToken }) // the same cached token
