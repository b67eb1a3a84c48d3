import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The client secret every smoke client authenticates with (HTTP Basic). */
export const SECRET = 'smoke-secret-Jq7'
/** The static header value of static-header mode. */
export const API_KEY = 'smoke-key-Pw3'

/** One request the API saw. */
export interface ApiHit {
  path: string
  /** Index of the token it carried among those issued to its client; -1 for none or unknown. */
  token: number
  apiKey: string | undefined
  status: number
}

/** One request that reached the foreign origin: it must carry no credentials. */
export interface ForeignHit {
  path: string
  authorization: string | undefined
  apiKey: string | undefined
}

/** Counts at the moment the scenario marked the end of a step. */
export interface Mark {
  tokens: number
  api: number
}

/** What the servers recorded for one smoke client (one cell in one mode). */
export interface ClientRecord {
  tokens: string[]
  revoked: Set<string>
  api: ApiHit[]
  foreign: ForeignHit[]
  marks: Record<string, Mark>
  /** Token requests that reached the redirecting token endpoint. */
  movedRequests: number
  /** Requests that reached the Location of the redirecting token endpoint (must stay 0). */
  movedLandings: number
}

export interface Servers {
  urls: { token: string; api: string; foreign: string; page: string }
  record(client: string): ClientRecord
  /** Serves the page and its bundled script. */
  setPage(html: string, script: string): void
  close(): Promise<void>
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type, x-api-key',
  'access-control-allow-methods': 'GET, POST',
  'access-control-max-age': '600',
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  response.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    ...CORS,
    ...headers,
  })
  response.end(text)
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void> | void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.method === 'OPTIONS') return send(response, 204, '')
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, String(error))
    })
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

/**
 * The token endpoint (with the control endpoints the scenario marks its steps with), the API,
 * a foreign origin and the page origin: four loopback origins on 127.0.0.1.
 */
export async function startServers(): Promise<Servers> {
  const records = new Map<string, ClientRecord>()
  const record = (client: string): ClientRecord => {
    let entry = records.get(client)
    if (!entry) {
      entry = {
        tokens: [],
        revoked: new Set(),
        api: [],
        foreign: [],
        marks: {},
        movedRequests: 0,
        movedLandings: 0,
      }
      records.set(client, entry)
    }
    return entry
  }
  const owner = new Map<string, string>()
  const basicClient = (request: IncomingMessage): string | undefined => {
    const match = /^Basic (.+)$/i.exec(header(request, 'authorization') ?? '')
    if (!match?.[1]) return undefined
    const [id, secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':')
    return id && secret && decodeURIComponent(secret) === SECRET
      ? decodeURIComponent(id)
      : undefined
  }

  let foreignUrl = ''
  const token = await listen(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    const client = url.searchParams.get('client') ?? ''
    if (url.pathname === '/control/revoke') {
      const entry = record(client)
      for (const issued of entry.tokens) entry.revoked.add(issued)
      return send(response, 200, 'revoked')
    }
    if (url.pathname === '/control/mark') {
      const entry = record(client)
      entry.marks[url.searchParams.get('step') ?? '?'] = {
        tokens: entry.tokens.length,
        api: entry.api.length,
      }
      return send(response, 200, 'marked')
    }
    if (request.method !== 'POST') return send(response, 404, 'not found')
    const body = new URLSearchParams(await readBody(request))
    const id = basicClient(request)
    if (url.pathname === '/moved/oauth/token') {
      if (id) record(id).movedRequests++
      return send(response, 302, '', {
        location: `${foreignUrl}/token-landing?client=${id ?? ''}`,
      })
    }
    if (url.pathname !== '/oauth/token') return send(response, 404, 'not found')
    if (!id) return send(response, 401, { error: 'invalid_client' })
    if (body.get('grant_type') !== 'client_credentials') {
      return send(response, 400, { error: 'unsupported_grant_type' })
    }
    const entry = record(id)
    const issued = `at.${id}.${entry.tokens.length + 1}`
    entry.tokens.push(issued)
    owner.set(issued, id)
    send(response, 200, { access_token: issued, token_type: 'Bearer', expires_in: 3600 })
  })

  const foreign = await listen((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    if (url.pathname === '/token-landing') {
      record(url.searchParams.get('client') ?? '').movedLandings++
      return send(response, 200, { access_token: 'stolen', token_type: 'Bearer' })
    }
    record(url.searchParams.get('cell') ?? '').foreign.push({
      path: url.pathname,
      authorization: header(request, 'authorization'),
      apiKey: header(request, 'x-api-key'),
    })
    send(response, 200, { foreign: true })
  })
  foreignUrl = foreign.url

  const api = await listen((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    const cell = url.searchParams.get('cell') ?? ''
    // A redirect for the platform's own fetch, without the adapters: does it keep Authorization?
    if (url.pathname === '/probe-redirect') {
      return send(response, 302, '', { location: `${foreignUrl}/landing?cell=${cell}` })
    }
    const entry = record(cell)
    const presented = /^Bearer (.+)$/.exec(header(request, 'authorization') ?? '')?.[1]
    const valid =
      presented !== undefined && owner.get(presented) === cell && !entry.revoked.has(presented)
    const hit: ApiHit = {
      path: url.pathname,
      token: presented === undefined ? -1 : entry.tokens.indexOf(presented),
      apiKey: header(request, 'x-api-key'),
      status: valid ? 200 : 401,
    }
    entry.api.push(hit)
    if (!valid) {
      return send(response, 401, 'token rejected', {
        'www-authenticate': 'Bearer error="invalid_token"',
      })
    }
    if (url.pathname === '/redirect') {
      return send(response, 302, '', { location: `${foreignUrl}/landing?cell=${cell}` })
    }
    send(response, 200, { ok: true })
  })

  let page = { html: '', script: '' }
  const pageServer = await listen((request, response) => {
    if (request.url === '/page.js') {
      return send(response, 200, page.script, { 'content-type': 'text/javascript' })
    }
    send(response, 200, page.html, { 'content-type': 'text/html' })
  })

  const servers = [token.server, foreign.server, api.server, pageServer.server]
  return {
    urls: { token: token.url, api: api.url, foreign: foreign.url, page: pageServer.url },
    record,
    setPage(html, script) {
      page = { html, script }
    },
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve())
              server.closeAllConnections()
            }),
        ),
      )
    },
  }
}
