import { once } from 'node:events'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientCredentials } from '@oauth-interceptors/core'
import { afterAll } from 'vitest'

/** A request a server received: what the client *sent*. */
export interface SeenRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export type Reply = [status: number, body?: unknown, headers?: Record<string, string>]

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  seen: SeenRequest[]
  /** Answers each request; may wait (for a gate the test opens, never for a timer). */
  reply: (request: SeenRequest) => Reply | Promise<Reply>
}

const servers = new Set<Server>()
afterAll(async () => {
  await Promise.all(
    [...servers].map((server) => {
      server.closeAllConnections()
      server.close()
      return once(server, 'close')
    }),
  )
})

/** A real node:http server on 127.0.0.1, port 0, closed after the test file. */
export async function startServer(
  reply: TestServer['reply'] = () => [200, { ok: true }],
): Promise<TestServer> {
  const server: TestServer = { origin: '', seen: [], reply }
  const http = createServer(async (req, res) => {
    const request: SeenRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: await readBody(req),
    }
    server.seen.push(request)
    const [status, body, headers] = await server.reply(request)
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(body === undefined ? '' : JSON.stringify(body))
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  server.origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  servers.add(http)
  return server
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

/**
 * A token endpoint at `${origin}/oauth/token`; by default it issues `at-1`, `at-2`, … (valid one
 * hour). `seen.length` is the number of token requests.
 */
export async function startTokenServer(
  reply: (n: number) => Reply | Promise<Reply> = (n) => [
    200,
    { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600 },
  ],
) {
  let issued = 0
  const server = await startServer(() => reply(++issued))
  const tokenUrl = `${server.origin}/oauth/token`
  return Object.assign(server, {
    tokenUrl,
    grant: () => clientCredentials({ tokenUrl, clientId: 'svc', clientSecret: 's3cret' }),
  })
}

/**
 * An API that accepts the tokens in `valid` (as `Authorization: Bearer <t>` unless `header`
 * and `scheme` say otherwise) and answers 401 with an RFC 6750 challenge otherwise.
 */
export async function startApi(
  valid: Set<string>,
  { header = 'authorization', scheme = 'Bearer ' }: { header?: string; scheme?: string } = {},
) {
  return startServer((request) => {
    const value = request.headers[header]
    return typeof value === 'string' &&
      value.startsWith(scheme) &&
      valid.has(value.slice(scheme.length))
      ? [200, { ok: true, path: request.path }]
      : [401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }]
  })
}

/** How many times each path was requested. */
export function countByPath(seen: readonly SeenRequest[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const { path } of seen) counts.set(path, (counts.get(path) ?? 0) + 1)
  return counts
}

/** A promise the test resolves by hand, to hold a server's answer. */
export function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}
