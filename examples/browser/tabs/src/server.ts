import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** The app's origin on 127.0.0.1: the page, its token endpoint and the Orders API. */
export interface AppServer {
  /** The page, e.g. http://127.0.0.1:5173/ (loopback http is a secure context: Web Locks work). */
  readonly url: string
  /** Refresh tokens the token endpoint was sent, in order. */
  readonly refreshes: readonly string[]
  /** Refresh tokens sent after they had been used once (each answered invalid_grant). */
  readonly reused: readonly string[]
  /** Makes the API reject the current access token, as after a revocation. */
  revokeAccess(): void
  close(): Promise<void>
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Orders</title>
<button type="button">Load orders</button>
<output></output>
<script type="module" src="/app.js"></script>
`

/**
 * Serves the page (src/app.ts, bundled with esbuild), a token endpoint that rotates refresh
 * tokens (each may be used once: a second use is refused, as providers with rotation do) and an
 * API that accepts only the newest access token.
 */
export async function startAppServer(port = 0): Promise<AppServer> {
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('./app.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // The workspace packages from their TypeScript source; an app would import their builds.
    conditions: ['source'],
    write: false,
  })
  const script = bundled.outputFiles[0]?.text ?? ''
  const refreshes: string[] = []
  const reused: string[] = []
  const spent = new Set<string>()
  const login = 'refresh-0'
  let validRefresh = login
  let accepted: string | undefined
  let issued = 0

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/') return send(res, 200, 'text/html', PAGE)
    if (path === '/app.js') return send(res, 200, 'text/javascript', script)
    if (path === '/session') return json(res, 200, { refreshToken: login })
    if (path === '/oauth/token' && req.method === 'POST') {
      const form = new URLSearchParams(await read(req))
      const refreshToken = form.get('refresh_token') ?? ''
      refreshes.push(refreshToken)
      if (form.get('grant_type') !== 'refresh_token' || refreshToken !== validRefresh) {
        if (spent.has(refreshToken)) reused.push(refreshToken)
        return json(res, 400, { error: 'invalid_grant' })
      }
      spent.add(refreshToken)
      issued++
      accepted = `access-${issued}`
      validRefresh = `refresh-${issued}`
      return json(res, 200, {
        access_token: accepted,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: validRefresh,
      })
    }
    if (path === '/api/orders') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      if (token === undefined || token !== accepted) {
        res.setHeader('www-authenticate', 'Bearer error="invalid_token"')
        return json(res, 401, { error: 'invalid_token' })
      }
      return json(res, 200, { orders: ['book-42', 'lamp-3'] })
    }
    json(res, 404, { error: 'not_found' })
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    refreshes,
    reused,
    revokeAccess: () => {
      accepted = undefined
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function read(req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body))
}
