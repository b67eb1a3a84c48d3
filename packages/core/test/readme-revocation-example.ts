// The README's "Revocation" example, type-checked by tsconfig.test.json (not run: it needs a
// real server; test/oidc-provider.test.ts runs the same calls against oidc-provider).
// In your code: from '@oauth-interceptors/core' and '@oauth-interceptors/core/revocation'
import { clientCredentials, createTokenManager } from '../src/index'
import { revocation } from '../src/revocation'

const tokens = createTokenManager({
  grant: clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    revocationUrl: 'https://auth.example.com/oauth/revoke',
    clientId: 'orders-service',
    clientSecret: process.env.CLIENT_SECRET,
  }),
  revocation: revocation(),
})

await tokens.getToken()
await tokens.revoke() // { accessTokens: 1, refreshTokens: 0 }; the next getToken() gets a new token
await tokens.revoke({ scope: 'orders:write' }) // only the token getToken({ scope: 'orders:write' }) returns

process.on('SIGTERM', async () => {
  await tokens.close({ revoke: true }) // revoke, then every getToken() rejects with code manager_closed
})
