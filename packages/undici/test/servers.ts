import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientCredentials, createTokenManager, type TokenManager } from '@oauth-interceptors/core'

/** A request as a server received it: what the client *sent*. */
export interface SeenRequest {
  method: string
  /** Path and query. */
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface TestServer {
  /** `http://127.0.0.1:<port>`: each server is its own origin. */
  origin: string
  url(path: string): string
  seen: SeenRequest[]
  /** The requests that went to `path` (query ignored). */
  sentTo(path: string): SeenRequest[]
  close(): Promise<void>
}

type Handler = (request: SeenRequest, response: ServerResponse) => void | Promise<void>

/** A real HTTP server on 127.0.0.1, port 0, recording every request it receives. */
export async function startServer(handle: Handler): Promise<TestServer> {
  const seen: SeenRequest[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const request = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    }
    seen.push(request)
    await handle(request, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    url: (path) => `${origin}${path}`,
    seen,
    sentTo: (path) => seen.filter((request) => request.path.split('?')[0] === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function json(response: ServerResponse, status: number, body: unknown, headers = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(body))
}

/**
 * A token endpoint at `/oauth/token` issuing `at-1`, `at-2`, … and an API that accepts exactly
 * the issued tokens that were not revoked, in `authorization` or `x-access-token`, with or
 * without a scheme.
 */
export async function startAuthServers() {
  const valid = new Set<string>()
  let issued = 0
  let gate: { arrived: () => void; held: Promise<void> } | undefined
  const tokens = await startServer(async (_request, response) => {
    if (gate) {
      gate.arrived()
      await gate.held
    }
    const token = `at-${++issued}`
    valid.add(token)
    json(response, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 })
  })
  const hanging: ServerResponse[] = []
  let onHang: (() => void) | undefined
  const apiHandler: Handler = (request, response) => {
    const { pathname, searchParams } = new URL(request.path, 'http://x')
    const credential = [request.headers.authorization, request.headers['x-access-token']]
      .filter((value): value is string => typeof value === 'string')
      .map((value) => value.replace(/^\w+ /, ''))
      .find((token) => valid.has(token))
    if (pathname === '/redirect') {
      const location = searchParams.get('to')
      response.writeHead(Number(searchParams.get('status') ?? 302), location ? { location } : {})
      response.end()
      return
    }
    const hops = Number(searchParams.get('hops') ?? 0)
    if (pathname === '/loop' && hops > 0) {
      response.writeHead(302, { location: `/loop?hops=${hops - 1}` })
      response.end()
      return
    }
    if (pathname === '/hang') {
      hanging.push(response)
      return onHang?.()
    }
    if (pathname === '/forbidden') return json(response, 403, { error: 'insufficient_scope' })
    if (pathname === '/always-401' || credential === undefined) {
      return json(response, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer' })
    }
    json(response, 200, { method: request.method, body: request.body })
  }
  const api = await startServer(apiHandler)
  /** Another origin (another port), e.g. where a redirect leads. */
  const other = await startServer(apiHandler)
  return {
    tokens,
    api,
    other,
    tokenUrl: tokens.url('/oauth/token'),
    /** Token requests the token endpoint received. */
    tokenRequests: () => tokens.seen.length,
    /** The API stops accepting every token issued so far (as after a key rotation). */
    revokeAll: () => valid.clear(),
    /** Holds token responses until `release()`; `arrived` resolves when a token request came in. */
    holdTokens() {
      let release = () => {}
      let arrived = () => {}
      const arrival = new Promise<void>((resolve) => {
        arrived = resolve
      })
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      gate = { arrived, held }
      return {
        arrived: arrival,
        release() {
          gate = undefined
          release()
        },
      }
    },
    /** Resolves once a request to `/hang` arrived (it is never answered). */
    nextHang: () =>
      new Promise<void>((resolve) => {
        onHang = resolve
      }),
    async close() {
      for (const response of hanging) response.destroy()
      await Promise.all([tokens.close(), api.close(), other.close()])
    },
  }
}

export type AuthServers = Awaited<ReturnType<typeof startAuthServers>>

/** A manager for the test token endpoint. */
export function managerFor(servers: AuthServers): TokenManager {
  return createTokenManager({
    grant: clientCredentials({
      tokenUrl: servers.tokenUrl,
      clientId: 'svc',
      clientSecret: 's3cret',
    }),
  })
}
