/**
 * Scenario 2e: what DPoP (RFC 9449, `@oauth-interceptors/core/dpop`) costs per request. Each
 * request with a DPoP token carries a new proof, a JWT signed with the client's key, so the
 * cost is one signature per request. Two parts: one proof alone, per key type (tinybench),
 * and each adapter on the in-process transport of 2c with a fixed header, a Bearer token and
 * a DPoP token, in alternating rounds (`process.cpuUsage()` per request).
 */
import { generateKeyPairSync } from 'node:crypto'
import { clientCredentials, createTokenManager, type TokenManager } from '@oauth-interceptors/core'
import { type DPoPKey, dpop } from '@oauth-interceptors/core/dpop'
import { Bench } from 'tinybench'
import { cpuPerRequest } from './cpu'
import { dpopTokenEndpointFetch, fakeJwt, TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'
import { API, inProcessSpecs, sendMany } from './in-process'
import { median } from './overhead'

export interface ProofResult {
  /** The key type and algorithm. */
  key: string
  /** Median µs to sign one proof. */
  us: number
  /** Relative margin of error of the mean, in %. */
  rme: number
}

export interface DPoPAdapterResult {
  client: string
  base: string
  /** Median CPU µs per request: fixed header, Bearer token, DPoP token. */
  bareUs: number
  bearerUs: number
  dpopUs: number
  /** Median of the per-round differences dpop − bearer: what the proof adds to a request. */
  addedUs: number
  rounds: number
}

export interface DPoPResult {
  proofs: ProofResult[]
  adapters: DPoPAdapterResult[]
}

const pkcs8 = { format: 'pem', type: 'pkcs8' } as const
const spki = { format: 'pem', type: 'spki' } as const

function keys(): [string, DPoPKey][] {
  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: pkcs8,
    publicKeyEncoding: spki,
  }).privateKey
  const ed = generateKeyPairSync('ed25519', {
    privateKeyEncoding: pkcs8,
    publicKeyEncoding: spki,
  }).privateKey
  return [
    ['ES256, P-256 (the default, generated)', dpop()],
    ['EdDSA, Ed25519', dpop({ privateKey: ed })],
    ['PS256, RSA 2048', dpop({ privateKey: rsa })],
  ]
}

function manager(key?: DPoPKey): TokenManager {
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'id', clientSecret: 'secret' }),
    fetch: key ? dpopTokenEndpointFetch : tokenEndpointFetch,
    dpop: key,
  })
}

export async function runDPoP(options: {
  timeMs: number
  requests: number
  rounds: number
}): Promise<DPoPResult> {
  const bench = new Bench({ time: options.timeMs, warmupTime: Math.min(200, options.timeMs / 4) })
  const token = fakeJwt()
  for (const [name, key] of keys()) {
    await key.proof('GET', `${API}/data`, token)
    bench.add(name, () => key.proof('GET', `${API}/data`, token))
  }
  await bench.run()
  const proofs = bench.tasks.map((task) => {
    const result = task.result
    if (!('latency' in result)) return { key: task.name, us: Number.NaN, rme: Number.NaN }
    return { key: task.name, us: result.latency.p50 * 1e3, rme: result.latency.rme }
  })

  const adapters: DPoPAdapterResult[] = []
  for (const spec of inProcessSpecs.filter((spec) => spec.ours)) {
    const sides = [spec.bare(), spec.create(manager()), spec.create(manager(dpop()))]
    for (const side of sides) await sendMany(side.send, options.requests, 8)
    const us = sides.map((): number[] => [])
    const added: number[] = []
    for (let round = 0; round < options.rounds; round++) {
      // Each round in another order, so that none of the three always runs first.
      const measured = [0, 0, 0]
      for (let i = 0; i < sides.length; i++) {
        const side = (i + round) % sides.length
        const send = sides[side]?.send
        if (send) measured[side] = await cpuPerRequest(send, options.requests)
      }
      for (const [side, value] of measured.entries()) us[side]?.push(value)
      added.push((measured[2] ?? 0) - (measured[1] ?? 0))
    }
    const [bare = [], bearer = [], withDPoP = []] = us
    adapters.push({
      client: spec.name,
      base: spec.base,
      bareUs: median(bare),
      bearerUs: median(bearer),
      dpopUs: median(withDPoP),
      addedUs: median(added),
      rounds: options.rounds,
    })
  }
  return { proofs, adapters }
}
