import { parseArgs } from 'node:util'
import {
  type DemoClient,
  RESOURCES,
  startAuthorizationServer,
  startResourceServer,
} from '@oauth-interceptors/demo-servers'
import {
  axiosClient,
  type Call,
  fetchClient,
  kyClient,
  naiveClient,
  ofetchClient,
  type Setup,
} from './clients'
import { type Lane, progressLine, table } from './report'
import { startRevocations } from './revocations'

const USAGE = `Usage: pnpm demo [--duration <seconds>] [--concurrency <n>] [--ttl <seconds>] [--tokens opaque|jwt]

Starts an OAuth 2.0 server (oidc-provider) and an API on 127.0.0.1, then sends requests through
axios, ky, ofetch and fetch clients (and a naive client, for comparison) while tokens expire
every few seconds and are revoked at random moments.

  --duration     how long to send requests, in seconds (default 10)
  --concurrency  requests in flight per client (default 16)
  --ttl          access token lifetime, in seconds (default 4)
  --tokens       jwt: the API checks JWTs against the JWKS; a revoked token goes on the
                 API's deny-list (oidc-provider cannot revoke JWTs);
                 opaque: the API introspects every token (RFC 7662) and tokens are revoked
                 at the authorization server (RFC 7009); slower, as each API request makes
                 an introspection request (default jwt)`

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      ttl: { type: 'string', default: '4' },
      tokens: { type: 'string', default: 'jwt' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    // pnpm may pass a lone `--` through to the script.
    allowPositionals: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const number = (name: string, value: string, min: number) => {
    const parsed = Number(value)
    if (!Number.isFinite(parsed) || parsed < min) {
      console.error(`--${name} must be a number ≥ ${min}, got "${value}"\n\n${USAGE}`)
      process.exit(2)
    }
    return parsed
  }
  if (values.tokens !== 'opaque' && values.tokens !== 'jwt') {
    console.error(`--tokens must be opaque or jwt, got "${values.tokens}"\n\n${USAGE}`)
    process.exit(2)
  }
  return {
    durationMs: number('duration', values.duration, 1) * 1000,
    concurrency: Math.floor(number('concurrency', values.concurrency, 1)),
    ttl: Math.floor(number('ttl', values.ttl, 2)),
    tokens: values.tokens,
  } as const
}

const LANES: readonly {
  name: string
  label: string
  clientAuth: DemoClient['clientAuth']
  create: (setup: Setup) => Call
  baseline?: true
}[] = [
  { name: 'axios', label: 'axios', clientAuth: 'client_secret_basic', create: axiosClient },
  { name: 'ky', label: 'ky', clientAuth: 'client_secret_post', create: kyClient },
  { name: 'ofetch', label: 'ofetch', clientAuth: 'client_secret_basic', create: ofetchClient },
  { name: 'fetch', label: 'fetch', clientAuth: 'client_secret_post', create: fetchClient },
  {
    name: 'naive',
    label: 'naive client (baseline)',
    clientAuth: 'client_secret_basic',
    create: naiveClient,
    baseline: true,
  },
]

async function main(): Promise<number> {
  const { durationMs, concurrency, ttl, tokens } = options()
  const clients = LANES.map(
    (lane): DemoClient => ({
      clientId: `demo-${lane.name}`,
      clientSecret: `${lane.name}-secret:%+&~ `,
      clientAuth: lane.clientAuth,
    }),
  )
  const as = await startAuthorizationServer({ accessTokenTTL: ttl, clients })
  const resource = RESOURCES[tokens]
  const api = await startResourceServer(as, { resource })
  const lanes: Lane[] = LANES.map((spec, index) => {
    const client = clients[index] as DemoClient
    return {
      label: spec.label,
      baseline: spec.baseline ?? false,
      call: spec.create({
        apiUrl: api.url,
        tokenUrl: as.tokenUrl,
        resource,
        name: spec.name,
        client,
      }),
      sent: 0,
      failed: 0,
      unrecovered: 0,
      errors: [],
      apiStats: () => api.stats(spec.name),
      tokenRequests: () => as.tokenRequests.filter((r) => r.clientId === client.clientId).length,
    }
  })

  const tty = process.stdout.isTTY === true
  console.log(
    `oidc-provider at ${as.issuer}, API at ${api.url} (${tokens} tokens, ${ttl} s lifetime)\n` +
      `${lanes.length} clients × ${concurrency} concurrent requests for ${durationMs / 1000} s; ` +
      "every client's token is revoked at random moments.\n",
  )

  const started = performance.now()
  const deadline = started + durationMs
  // The longest request of the last 0.5 to 1 s, for the revocations (see revocations.ts).
  let slowest = 0
  let slowestBefore = 0
  const latencyWindow = setInterval(() => {
    slowestBefore = slowest
    slowest = 0
  }, 500)
  const revocations = startRevocations({
    as,
    api,
    clients: LANES.map((lane, index) => ({
      name: lane.name,
      client: clients[index] as DemoClient,
    })),
    tokens,
    ttl,
    deadline,
    latency: () => Math.max(slowest, slowestBefore),
  })

  const progress = () => progressLine(lanes, (performance.now() - started) / 1000)
  // A TTY gets one line rewritten in place (cut to the terminal's width, as a wrapped line
  // cannot be rewritten); logs get a plain line every 2 s.
  const live = () => `\r${progress().slice(0, (process.stdout.columns || 80) - 1)}\x1b[K`
  const ticker = setInterval(
    () => {
      if (tty) process.stdout.write(live())
      else console.log(progress())
    },
    tty ? 100 : 2_000,
  )

  let sequence = 0
  const worker = async (lane: Lane) => {
    while (performance.now() < deadline) {
      const n = sequence++
      lane.sent++
      const sentAt = performance.now()
      try {
        // Every fourth request is a POST with a JSON body, which a retry must send again.
        const status =
          n % 4 === 0
            ? await lane.call('/orders', { item: n, quantity: 1 })
            : await lane.call(`/items/${n}`)
        if (status !== 200) {
          lane.failed++
          if (status === 401) lane.unrecovered++
          if (lane.errors.length < 3) lane.errors.push(`HTTP ${status}`)
        }
      } catch (error) {
        lane.failed++
        if (lane.errors.length < 3) lane.errors.push(String(error))
      }
      slowest = Math.max(slowest, performance.now() - sentAt)
    }
  }
  await Promise.all(
    lanes.flatMap((lane) => Array.from({ length: concurrency }, () => worker(lane))),
  )

  clearInterval(ticker)
  clearInterval(latencyWindow)
  revocations.stop()
  if (tty) process.stdout.write(`${live()}\n\n`)
  else console.log(`${progress()}\n`)
  console.log(table(lanes, revocations.counts()))

  await api.close()
  await as.close()
  return lanes.some((lane) => !lane.baseline && lane.failed > 0) ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  },
)
