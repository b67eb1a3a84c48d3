import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request as a server received it: what the client *sent*. */
export interface Seen {
  method: string
  /** Path and query. */
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/** How a server answers one request. */
export interface Answer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

interface Server {
  /** `http://127.0.0.1:<port>`: each server is its own origin. */
  origin: string
  url(path: string): string
  /** Every request received since the last `reset()`. */
  seen: Seen[]
  /** The requests to `path` (query ignored). */
  hits(path: string): Seen[]
  close(): Promise<void>
}

type Handler = (request: Seen, response: ServerResponse) => void | Promise<void>

/** A real HTTP server on 127.0.0.1, port 0, recording every request it receives. */
async function startServer(handle: Handler): Promise<Server> {
  const seen: Seen[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const request: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
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
    hits: (path) => seen.filter((request) => request.url.split('?')[0] === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function send(response: ServerResponse, { status, headers = {}, body }: Answer): void {
  const json = body === undefined ? '' : JSON.stringify(body)
  response.writeHead(status, { ...(json && { 'content-type': 'application/json' }), ...headers })
  response.end(json)
}

/** `/redirect?status=302&to=<location>`: a redirect to `to` (a path or a URL). */
export function redirectPath(to: string, status = 302): string {
  return `/redirect?${new URLSearchParams({ status: String(status), to })}`
}

export interface ApiServer extends Server {
  /** Answer with `answer` from now on (until `reset()`); `undefined` means the default answer. */
  answer(answer: (request: Seen) => Answer | undefined): void
}

/**
 * An API. By default: `/redirect` redirects (see {@link redirectPath}); with `requireToken`,
 * a request without a valid token (in `authorization` or `x-access-token`, scheme or not) gets
 * `401` with `WWW-Authenticate: Bearer`; everything else `200 {"ok":true}`.
 */
async function startApi(isValid: (token: string) => boolean, requireToken: boolean) {
  let custom: ((request: Seen) => Answer | undefined) | undefined
  const server = await startServer((request, response) => {
    const answer = custom?.(request)
    if (answer) return send(response, answer)
    const { pathname, searchParams } = new URL(request.url, 'http://x')
    if (pathname === '/redirect') {
      const to = searchParams.get('to') ?? '/'
      return send(response, {
        status: Number(searchParams.get('status')),
        headers: { location: to },
      })
    }
    const presented = [request.headers.authorization, request.headers['x-access-token']]
      .filter((value): value is string => typeof value === 'string')
      .map((value) => value.replace(/^\w+ /, ''))
    if (requireToken && !presented.some(isValid)) {
      return send(response, { status: 401, headers: { 'www-authenticate': 'Bearer' } })
    }
    send(response, { status: 200, body: { ok: true } })
  })
  const api: ApiServer = {
    ...server,
    answer: (answer) => {
      custom = answer
    },
  }
  return { api, resetAnswers: () => (custom = undefined) }
}

export type TokenMode = 'normal' | 'always-500' | 'hang'

export interface TokenServer extends Server {
  tokenUrl: string
  /** The token requests made with `clientId` (each test uses its own client). */
  requestsOf(clientId: string): Seen[]
  /** `normal`: issues `<clientId>.1`, `<clientId>.2`, … (a new token on every request). */
  mode: TokenMode
  /** Answers this test's token requests with `answer` from now on (until `reset()`), e.g. a 503. */
  answer(answer: (request: Seen) => Answer): void
  /** Holds token responses until `release()`; `arrived` resolves when a token request came in. */
  hold(): { arrived: Promise<void>; release(): void }
}

/** The client id of a token request: HTTP Basic or the form body. */
function clientIdOf(request: Seen): { clientId?: string | undefined; secret?: string | undefined } {
  const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '')?.[1]
  if (basic) {
    const [id = '', secret = ''] = Buffer.from(basic, 'base64').toString().split(':')
    return { clientId: decodeURIComponent(id), secret: decodeURIComponent(secret) }
  }
  const form = new URLSearchParams(request.body)
  return {
    clientId: form.get('client_id') ?? undefined,
    secret: form.get('client_secret') ?? undefined,
  }
}

/** The secret every client of the token server has. */
export const CLIENT_SECRET = 's3cret'

/**
 * A token endpoint at `/oauth/token`, an API that accepts exactly the tokens it issued and that
 * were not revoked, and a foreign API on another origin that accepts anything.
 */
export async function startWorld() {
  const valid = new Set<string>()
  const issued = new Map<string, number>()
  const hung: ServerResponse[] = []
  let gate: { arrived: () => void; held: Promise<void> } | undefined
  let custom: ((request: Seen) => Answer) | undefined

  const tokenServer = await startServer(async (request, response) => {
    if (gate) {
      gate.arrived()
      await gate.held
    }
    if (tokens.mode === 'hang') {
      hung.push(response)
      return
    }
    if (tokens.mode === 'always-500') return send(response, { status: 500, body: 'oops' })
    if (custom) return send(response, custom(request))
    const { clientId, secret } = clientIdOf(request)
    if (!clientId || secret !== CLIENT_SECRET) {
      // As careless servers do: the credentials it was sent, echoed back.
      const description = `no client ${clientId} with secret ${secret} (${request.headers.authorization ?? 'no Authorization'})`
      return send(response, {
        status: 401,
        body: { error: 'invalid_client', error_description: description },
      })
    }
    const count = (issued.get(clientId) ?? 0) + 1
    issued.set(clientId, count)
    const token = `${clientId}.${count}`
    valid.add(token)
    send(response, { status: 200, body: { access_token: token, token_type: 'Bearer' } })
  })
  const tokens: TokenServer = {
    ...tokenServer,
    tokenUrl: tokenServer.url('/oauth/token'),
    requestsOf: (clientId) =>
      tokenServer.seen.filter((request) => clientIdOf(request).clientId === clientId),
    mode: 'normal',
    answer(answer) {
      custom = answer
    },
    hold() {
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
  }
  const { api, resetAnswers: resetApi } = await startApi((token) => valid.has(token), true)
  const { api: foreign, resetAnswers: resetForeign } = await startApi(() => true, false)

  const world = {
    tokens,
    /** The API the clients are made for (their base URL). */
    api,
    /** Another API, on another origin. */
    foreign,
    /** The API stops accepting every token issued so far (as after a key rotation). */
    revokeAll: () => valid.clear(),
    /** Forgets what was seen and answers normally again. */
    reset() {
      for (const server of [tokens, api, foreign]) server.seen.length = 0
      resetApi()
      resetForeign()
      tokens.mode = 'normal'
      custom = undefined
      gate = undefined
      for (const response of hung.splice(0)) response.destroy()
    },
    async close() {
      world.reset()
      await Promise.all([tokens.close(), api.close(), foreign.close()])
    },
  }
  return world
}

export type World = Awaited<ReturnType<typeof startWorld>>
