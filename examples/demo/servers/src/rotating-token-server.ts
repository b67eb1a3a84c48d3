import type { IncomingMessage, ServerResponse } from 'node:http'
import { listen } from './listen'

/** A file the server hands out as it is, e.g. a page and its bundled script. */
export interface ServedFile {
  /** Its `content-type`. */
  readonly type: string
  readonly body: string
}

/**
 * One loopback origin for a browser app whose provider rotates refresh tokens: the app's files,
 * a token endpoint at `/oauth/token` where each refresh token is good once (a second use is
 * answered 400 `invalid_grant` and counted, as providers with rotation do), and an Orders API at
 * `/api/orders` that accepts only the newest access token.
 */
export interface RotatingTokenServer {
  /** `http://127.0.0.1:<port>`: loopback http is a secure context, so Web Locks work. */
  readonly origin: string
  readonly tokenUrl: string
  readonly apiUrl: string
  /** Refresh tokens the token endpoint was sent, in order. */
  readonly refreshes: readonly string[]
  /** Refresh tokens sent after they had been used once (each answered `invalid_grant`). */
  readonly reused: readonly string[]
  /** The access token the API accepts now. */
  current(): string | undefined
  /** Makes the API reject the current access token, as after a server-side revocation. */
  revokeAccess(): void
  close(): Promise<void>
}

/**
 * Starts a {@link RotatingTokenServer} on 127.0.0.1 whose first valid refresh token is
 * `initialRefreshToken`; `files` are served by path (`/`, `/app.js`, …).
 */
export async function startRotatingTokenServer(options: {
  initialRefreshToken: string
  files?: Record<string, ServedFile>
  port?: number
}): Promise<RotatingTokenServer> {
  const files = options.files ?? {}
  const refreshes: string[] = []
  const reused: string[] = []
  const spent = new Set<string>()
  let validRefresh = options.initialRefreshToken
  let accepted: string | undefined
  let issued = 0

  const running = await listen(async (req, res) => {
    const body = await read(req)
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/oauth/token' && req.method === 'POST') {
      const form = new URLSearchParams(body)
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
    const file = files[path]
    if (file === undefined) return json(res, 404, { error: 'not_found' })
    send(res, 200, file.type, file.body)
  }, options.port)
  return {
    origin: running.url,
    tokenUrl: `${running.url}/oauth/token`,
    apiUrl: `${running.url}/api/orders`,
    refreshes,
    reused,
    current: () => accepted,
    revokeAccess: () => {
      accepted = undefined
    },
    close: () => running.close(),
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
