import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * One loopback origin: a token endpoint that rotates refresh tokens (each valid once; a reuse
 * is answered 400 invalid_grant and counted), an API that accepts only the newest access
 * token, and the files of a test page.
 */
export interface AuthServer {
  readonly origin: string
  readonly tokenUrl: string
  readonly apiUrl: string
  /** Refresh tokens the endpoint was sent, in order. */
  readonly refreshes: string[]
  /** Refresh tokens sent a second time (each answered 400 invalid_grant). */
  readonly reused: string[]
  /** The access token the API accepts. */
  readonly current: () => string | undefined
  /** Makes the API reject the current access token, as after a server-side revocation. */
  revokeAccess(): void
  close(): Promise<void>
}

export async function startAuthServer(
  initialRefreshToken: string,
  files: Record<string, { type: string; body: string }> = {},
): Promise<AuthServer> {
  const refreshes: string[] = []
  const reused: string[] = []
  const spent = new Set<string>()
  let validRefresh = initialRefreshToken
  let accepted: string | undefined
  let issued = 0
  const server = createServer(async (req, res) => {
    const body = await read(req)
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/token' && req.method === 'POST') {
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
    if (path === '/api') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      const ok = token !== undefined && token === accepted
      return json(res, ok ? 200 : 401, ok ? { ok } : { error: 'invalid_token' })
    }
    const file = files[path]
    if (file === undefined) return json(res, 404, { error: 'not_found' })
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  // Stops by itself should a test forget it.
  server.unref()
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    tokenUrl: `${origin}/token`,
    apiUrl: `${origin}/api`,
    refreshes,
    reused,
    current: () => accepted,
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

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}
