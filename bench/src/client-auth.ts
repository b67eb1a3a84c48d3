/**
 * Scenario 2d: what one token request costs the client, per client authentication method:
 * `client_secret_basic` against the JWT assertions of `@oauth-interceptors/core/jwt`, whose
 * extra cost is signing a new assertion for every request. The in-process token endpoint
 * answers at once, so the numbers are the client's own work (tinybench, median µs).
 */
import { generateKeyPairSync } from 'node:crypto'
import { type ClientOptions, clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { clientSecretJwt, privateKeyJwt } from '@oauth-interceptors/core/jwt'
import { Bench } from 'tinybench'
import { TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'

export interface ClientAuthResult {
  /** The method, and the key for private_key_jwt. */
  name: string
  /** Median µs per token request. */
  us: number
  /** Relative margin of error of the mean, in %. */
  rme: number
}

const pkcs8 = { format: 'pem', type: 'pkcs8' } as const
const spki = { format: 'pem', type: 'spki' } as const
const rsaPem = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: pkcs8,
    publicKeyEncoding: spki,
  }).privateKey
const ecPem = () =>
  generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: pkcs8,
    publicKeyEncoding: spki,
  }).privateKey
const edPem = () =>
  generateKeyPairSync('ed25519', { privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey

export async function runClientAuth(options: { timeMs: number }): Promise<ClientAuthResult[]> {
  const secret = 'bench-client-secret-0123456789abcdef'
  const methods: [string, Partial<ClientOptions>][] = [
    ['client_secret_basic', { clientSecret: secret }],
    ['client_secret_jwt (HS256)', { clientSecret: secret, clientAuth: clientSecretJwt() }],
    ['private_key_jwt (RS256, RSA 2048)', { clientAuth: privateKeyJwt({ key: rsaPem() }) }],
    ['private_key_jwt (ES256, P-256)', { clientAuth: privateKeyJwt({ key: ecPem() }) }],
    ['private_key_jwt (EdDSA, Ed25519)', { clientAuth: privateKeyJwt({ key: edPem() }) }],
  ]
  const bench = new Bench({ time: options.timeMs, warmupTime: Math.min(200, options.timeMs / 4) })
  for (const [name, client] of methods) {
    const manager = createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'bench-client', ...client }),
      fetch: tokenEndpointFetch,
    })
    let token = (await manager.getToken()).accessToken
    // One op: drop the token, so that the next getToken() makes one token request.
    bench.add(name, async () => {
      manager.invalidate(token)
      token = (await manager.getToken()).accessToken
    })
  }
  await bench.run()
  return bench.tasks.map((task) => {
    const result = task.result
    if (!('latency' in result)) return { name: task.name, us: Number.NaN, rme: Number.NaN }
    return { name: task.name, us: result.latency.p50 * 1e3, rme: result.latency.rme }
  })
}
