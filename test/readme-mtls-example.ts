// The README's "Mutual TLS" example, type-checked by this package's tsconfig (not run: it needs
// a server that asks for a client certificate; test/mtls.test.ts runs the same calls against
// oidc-provider behind TLS listeners).
import { readFileSync } from 'node:fs'
import { Agent as HttpsAgent } from 'node:https'
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { discover } from '@oauth-interceptors/core/discovery'
import { tlsClientAuth } from '@oauth-interceptors/core/mtls'
import { oauthFetch } from '@oauth-interceptors/fetch'
import axios from 'axios'
import { Agent } from 'undici'

const cert = readFileSync(process.env.CLIENT_CERT_FILE ?? 'client.crt', 'utf8')
const key = readFileSync(process.env.CLIENT_KEY_FILE ?? 'client.key', 'utf8')
const agent = new Agent({ connect: { cert, key } }) // add `ca` for a private CA

const tokens = createTokenManager({
  grant: clientCredentials({
    // With issuer, token and revocation requests go to the metadata's mtls_endpoint_aliases.
    issuer: discover('https://auth.example.com'),
    clientId: 'orders-service',
    clientAuth: tlsClientAuth({ dispatcher: agent }), // or selfSignedTlsClientAuth(…)
  }),
})

// fetch: the same Agent presents the certificate to the API the token is bound to.
const api = oauthFetch(
  { manager: tokens, origins: 'https://api.example.com' },
  { fetch: (input, init) => fetch(input, { ...init, dispatcher: agent } as RequestInit) },
)
console.log((await api('https://api.example.com/orders')).status)

// axios: an https.Agent with the same certificate and key.
const orders = axios.create({
  baseURL: 'https://api.example.com',
  httpsAgent: new HttpsAgent({ cert, key }),
})
oauthInterceptor({ manager: tokens }).attach(orders)
console.log((await orders.get('/orders')).status)
