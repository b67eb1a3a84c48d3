import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeEach } from 'vitest'

/** A request a server received: what the client *sent*. */
export interface Seen {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

type Handler = (request: Seen, response: ServerResponse) => void

/** A real node:http server on 127.0.0.1, port 0; `seen` lists what it received. */
export async function startServer(handler: Handler) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }
      seen.push(request)
      handler(request, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    seen,
    /** How often `path` was requested. */
    count: (path: string) => seen.filter((request) => request.path === path).length,
    close: () => {
      // Requests left hanging on purpose (timeout tests) must not keep the server open.
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/**
 * An OAuth-protected API on one origin, with its own token endpoint at /oauth/token.
 * The API accepts the tokens issued since the last `revoke()`, read from `authHeader`
 * (with or without a scheme). Routes:
 * - `/data…` 200 with a token, else 401
 * - `/forbidden` 403 · `/always-401` 401 · `/hang` never answers
 * - `/redirect?status=302&to=<url>` redirects (after checking the token)
 * - `/flaky…` 503 on its first request with a valid token, then like `/data`
 */
export async function startApi() {
  const valid = new Set<string>()
  const flaked = new Set<string>()
  let issued = 0
  const state = { authHeader: 'authorization' }
  const api = await startServer((request, response) => {
    const url = new URL(request.path, 'http://x')
    if (url.pathname === '/oauth/token') {
      const token = `at-${++issued}`
      valid.add(token)
      return json(response, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `rt-secret-${issued}`,
      })
    }
    if (url.pathname === '/hang') return
    if (url.pathname === '/forbidden') return json(response, 403, { error: 'insufficient_scope' })
    if (url.pathname === '/always-401') return json(response, 401, { error: 'invalid_token' })
    const sent = String(request.headers[state.authHeader] ?? '').replace(/^Bearer /, '')
    if (!valid.has(sent)) {
      return json(response, 401, { error: 'invalid_token' })
    }
    if (url.pathname === '/redirect') {
      const status = Number(url.searchParams.get('status') ?? 302)
      response.writeHead(status, { location: url.searchParams.get('to') ?? '/data' }).end()
      return
    }
    if (url.pathname.startsWith('/flaky') && !flaked.has(request.path)) {
      flaked.add(request.path)
      return json(response, 503, { error: 'try again' })
    }
    json(response, 200, { ok: true, path: request.path, body: request.body })
  })
  return {
    ...api,
    state,
    tokenUrl: `${api.origin}/oauth/token`,
    /** Token requests the endpoint received. */
    tokenRequests: () => api.count('/oauth/token'),
    /** The server forgets every token it issued, as after a key rotation. */
    revoke: () => valid.clear(),
    /** What the API (not the token endpoint) received. */
    apiRequests: () => api.seen.filter((request) => request.path !== '/oauth/token'),
  }
}

/** A fresh API and another origin for each test, closed at the end of the file. */
export function useServers() {
  const open: Array<{ close(): Promise<void> }> = []
  const servers = {} as {
    api: Awaited<ReturnType<typeof startApi>>
    other: Awaited<ReturnType<typeof startServer>>
  }
  beforeEach(async () => {
    servers.api = await startApi()
    // Another origin: 401 on /401…, else 200.
    servers.other = await startServer((request, response) =>
      request.path.startsWith('/401')
        ? json(response, 401, { other: true })
        : json(response, 200, { other: true }),
    )
    open.push(servers.api, servers.other)
  })
  afterAll(async () => {
    await Promise.all(open.map((server) => server.close()))
  })
  return servers
}
