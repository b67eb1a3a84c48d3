// The README's "Discovery" example, type-checked by tsconfig.test.json (not run: it needs a
// real server; test/discovery.test.ts runs the same calls against oidc-provider).
// In your code: from '@oauth-interceptors/core', '@oauth-interceptors/core/discovery' and
// '@oauth-interceptors/core/revocation'
import { discover } from '../src/discovery'
import { clientCredentials, createTokenManager } from '../src/index'
import { revocation } from '../src/revocation'

const tokens = createTokenManager({
  grant: clientCredentials({
    issuer: discover('https://auth.example.com'), // exactly as the metadata's "issuer" says it
    clientId: 'orders-service',
    clientSecret: process.env.CLIENT_SECRET,
    clientAuth: 'auto', // the default with issuer
  }),
  revocation: revocation(), // for revoke(), from '@oauth-interceptors/core/revocation'
})

const { accessToken } = await tokens.getToken() // reads the metadata, then asks its token_endpoint
await tokens.revoke() // at the metadata's revocation_endpoint
console.log(accessToken.length)
