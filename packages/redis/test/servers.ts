import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A token request as the token endpoint saw it. */
export interface SeenTokenRequest {
  /** The `x-fleet-process` header the fleet processes add: which process asked. */
  process: string | undefined
  at: number
  /** The form the request carried (`grant_type`, `refresh_token`, …). */
  form: Record<string, string>
}

/**
 * A local OAuth token endpoint that counts requests and issues `token-1`, `token-2`, …; a
 * `refresh_token` grant also gets a new refresh token, `refresh-1`, `refresh-2`, … (rotation).
 * With `stallFirst`, the first request is never answered (a holder stuck mid-refresh).
 */
export interface TokenEndpoint {
  readonly url: string
  readonly requests: SeenTokenRequest[]
  /** Every access token issued so far, in order. */
  readonly issued: string[]
  stallFirst: boolean
  /** Resolves with the next request the endpoint receives. */
  nextRequest(): Promise<SeenTokenRequest>
  close(): Promise<void>
}

export async function startTokenEndpoint(
  options: { expiresIn?: number; tokenType?: string; delayMs?: number } = {},
): Promise<TokenEndpoint> {
  const requests: SeenTokenRequest[] = []
  const issued: string[] = []
  let onRequest: ((request: SeenTokenRequest) => void) | undefined
  const endpoint = {
    requests,
    issued,
    stallFirst: false,
    nextRequest: () =>
      new Promise<SeenTokenRequest>((resolve) => {
        onRequest = resolve
      }),
  }
  const server = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await text(req)))
    const seen = { process: header(req, 'x-fleet-process'), at: performance.now(), form }
    requests.push(seen)
    onRequest?.(seen)
    onRequest = undefined
    if (endpoint.stallFirst && requests.length === 1) return // never answered
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
    const accessToken = `token-${issued.length + 1}`
    issued.push(accessToken)
    const rotated = form.grant_type === 'refresh_token' ? `refresh-${issued.length}` : undefined
    json(res, 200, {
      access_token: accessToken,
      token_type: options.tokenType ?? 'Bearer',
      expires_in: options.expiresIn ?? 3600,
      ...(rotated && { refresh_token: rotated }),
    })
  })
  const url = await listen(server)
  return Object.assign(endpoint, { url: `${url}/oauth/token`, close: () => close(server) })
}

/**
 * A local API that accepts the tokens `isValid` approves and answers 401 otherwise. Counts
 * how often each request (by its `x-request-id` header) was sent.
 */
export interface Api {
  readonly url: string
  readonly sends: Map<string, number>
  /** The tokens the API no longer accepts. */
  readonly revoked: Set<string>
  close(): Promise<void>
}

export async function startApi(issued: readonly string[]): Promise<Api> {
  const sends = new Map<string, number>()
  const revoked = new Set<string>()
  const server = createServer(async (req, res) => {
    await drain(req)
    const id = header(req, 'x-request-id') ?? ''
    sends.set(id, (sends.get(id) ?? 0) + 1)
    const token = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1]
    const valid = token !== undefined && issued.includes(token) && !revoked.has(token)
    json(res, valid ? 200 : 401, { ok: valid })
  })
  const url = await listen(server)
  return { url: `${url}/data`, sends, revoked, close: () => close(server) }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

async function text(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // The body does not matter here; reading it lets the connection be reused.
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function listen(server: Server): Promise<string> {
  // Longer than any test: a client reusing a connection the server just timed out would see
  // "other side closed", a failure of the test setup rather than of the code under test.
  server.keepAliveTimeout = 120_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}
