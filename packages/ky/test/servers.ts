import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request a test server received: what the client *sent*. */
export interface Seen {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

export type Handler = (
  request: Seen,
  response: ServerResponse,
) => void | Promise<void> | readonly [number, unknown, Record<string, string>?]

export interface TestServer {
  /** `http://127.0.0.1:<port>`, an origin of its own. */
  readonly origin: string
  /** Every request received, in order. */
  readonly seen: Seen[]
  /** Replaces how requests are answered. */
  handle(handler: Handler): void
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1, on a free port. */
export async function startServer(handler: Handler = () => [200, {}]): Promise<TestServer> {
  const seen: Seen[] = []
  let current = handler
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const request: Seen = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    }
    seen.push(request)
    const answer = await current(request, res)
    if (!answer) return
    const [status, body, headers] = answer
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    handle(next) {
      current = next
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A token endpoint (client credentials) that issues `at-1`, `at-2`, … and an API that accepts
 * only tokens the endpoint issued and did not revoke.
 */
export async function startOAuthWorld() {
  const tokens = await startServer()
  const api = await startServer()
  const other = await startServer()
  const accepted = new Set<string>()
  let issued = 0
  let tokenType = 'Bearer'
  tokens.handle(() => {
    const token = `at-${++issued}`
    accepted.add(token)
    return [200, { access_token: token, token_type: tokenType, expires_in: 3600 }]
  })
  /** The token a request carried in `header`, with or without a scheme. */
  const tokenOf = (request: Seen, header = 'authorization') =>
    String(request.headers[header] ?? '')
      .split(' ')
      .at(-1)
  api.handle((request) =>
    accepted.has(tokenOf(request) ?? '')
      ? [200, { path: request.path }]
      : [401, { error: 'invalid_token' }],
  )
  other.handle((request) => [200, { path: request.path }])
  return {
    tokens,
    api,
    other,
    tokenUrl: `${tokens.origin}/oauth/token`,
    tokenOf,
    /** The API rejects every token issued so far. */
    revokeAll() {
      accepted.clear()
    },
    setTokenType(type: string) {
      tokenType = type
    },
    reset() {
      for (const server of [tokens, api, other]) server.seen.length = 0
    },
    close: () => Promise.all([tokens.close(), api.close(), other.close()]),
  }
}
