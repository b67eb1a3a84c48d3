/**
 * The token server and the API every client in the benchmark talks to, run as a child process
 * (see server-control.ts) so that it has a core of its own and the client's costs show.
 *
 * - Token server (its own port, so its own origin): `POST /token`, client credentials with
 *   the client authenticated by HTTP Basic or in the form body. Issues JWT-shaped tokens
 *   (undici-oidc-interceptor only works with JWTs) with `expires_in: 3600`, after
 *   `tokenDelay` ms, as a real provider takes a while.
 * - API (another port): `GET /api/data[?id=N]` answers 200 for a token issued since the last
 *   revocation, else 401 with `WWW-Authenticate: Bearer error="invalid_token"`. With `id`, it
 *   counts how often each request id was sent.
 * - Control, on the API port: `POST /__reset` (counters), `POST /__revoke` (all tokens),
 *   `GET /__stats`, `POST /__config?tokenDelay=ms`.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const CLIENT_ID = 'bench-client'
export const CLIENT_SECRET = 'bench-secret'

/** What `GET /__stats` answers. */
export interface ServerStats {
  /** `POST /token` requests, successful or not. */
  tokenRequests: number
  /** API requests, all answers. */
  apiRequests: number
  /** API requests answered 401. */
  unauthorized: number
  /** API requests that carried `?id=` (burst requests). */
  tracked: number
  /** Distinct request ids seen. */
  ids: number
  /** Most sends of one request id. */
  maxSends: number
  /** Request ids sent more than twice: the client looped. */
  loops: number
  /** Anything else (unknown paths, e.g. discovery documents). */
  other: number
}

let tokenDelay = 20
let valid = new Set<string>()
let stats: Omit<ServerStats, 'ids' | 'maxSends' | 'loops'> = zero()
let sends = new Map<string, number>()

function zero() {
  return { tokenRequests: 0, apiRequests: 0, unauthorized: 0, tracked: 0, other: 0 }
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

const jwtHeader = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

function issueToken(): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = base64url(
    JSON.stringify({
      iss: 'http://127.0.0.1',
      sub: CLIENT_ID,
      aud: 'bench-api',
      iat: now,
      exp: now + 3600,
      jti: randomBytes(9).toString('base64url'),
    }),
  )
  return `${jwtHeader}.${payload}.${randomBytes(32).toString('base64url')}`
}

function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      data += chunk
    })
    req.on('end', () => resolve(data))
    req.on('error', reject)
  })
}

/** Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the body. */
function clientOf(req: IncomingMessage, form: URLSearchParams): [string | null, string | null] {
  const auth = req.headers.authorization
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '))
    return [decode(decoded.slice(0, colon)), decode(decoded.slice(colon + 1))]
  }
  return [form.get('client_id'), form.get('client_secret')]
}

async function onToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
  stats.tokenRequests++
  const text = await readBody(req)
  const form = req.headers['content-type']?.includes('json')
    ? new URLSearchParams(JSON.parse(text) as Record<string, string>)
    : new URLSearchParams(text)
  const [id, secret] = clientOf(req, form)
  if (tokenDelay > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelay))
  if (id !== CLIENT_ID || secret !== CLIENT_SECRET) {
    send(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic' })
    return
  }
  if (form.get('grant_type') !== 'client_credentials') {
    send(res, 400, { error: 'unsupported_grant_type' })
    return
  }
  const token = issueToken()
  valid.add(token)
  send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 })
}

function onApi(req: IncomingMessage, res: ServerResponse, url: URL): void {
  stats.apiRequests++
  const id = url.searchParams.get('id')
  if (id !== null) {
    stats.tracked++
    sends.set(id, (sends.get(id) ?? 0) + 1)
  }
  const auth = req.headers.authorization
  const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
  if (token === undefined || !valid.has(token)) {
    stats.unauthorized++
    send(
      res,
      401,
      { error: 'invalid_token' },
      { 'www-authenticate': 'Bearer error="invalid_token"' },
    )
    return
  }
  send(res, 200, { ok: true })
}

function onControl(res: ServerResponse, url: URL): boolean {
  switch (url.pathname) {
    case '/__reset':
      stats = zero()
      sends = new Map()
      break
    case '/__revoke':
      valid = new Set()
      break
    case '/__config':
      tokenDelay = Number(url.searchParams.get('tokenDelay') ?? tokenDelay)
      break
    case '/__stats': {
      let maxSends = 0
      let loops = 0
      for (const count of sends.values()) {
        if (count > maxSends) maxSends = count
        if (count > 2) loops++
      }
      send(res, 200, { ...stats, ids: sends.size, maxSends, loops } satisfies ServerStats)
      return true
    }
    default:
      return false
  }
  send(res, 200, { ok: true })
  return true
}

const api = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  if (url.pathname === '/api/data') return onApi(req, res, url)
  if (url.pathname.startsWith('/__') && onControl(res, url)) return
  stats.other++
  send(res, 404, { error: 'not_found' })
})

const tokens = createServer((req, res) => {
  if (req.method === 'POST' && req.url?.startsWith('/token')) {
    onToken(req, res).catch(() => send(res, 500, { error: 'server_error' }))
    return
  }
  stats.other++
  send(res, 404, { error: 'not_found' })
})

// 1,000 concurrent connects overflow Node's default listen backlog (511).
const listen = (server: ReturnType<typeof createServer>) =>
  new Promise<number>((resolve) => {
    server.keepAliveTimeout = 30_000
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
      resolve((server.address() as AddressInfo).port),
    )
  })

const [apiPort, tokenPort] = await Promise.all([listen(api), listen(tokens)])
process.send?.({ apiPort, tokenPort })
// The parent's exit (or its disconnect) ends the server too.
process.on('disconnect', () => process.exit(0))
