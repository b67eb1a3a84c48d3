import { type ChildProcess, fork } from 'node:child_process'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { CLIENT_ID, CLIENT_SECRET, type ServerStats } from './server'

/** Where the clients send requests, and the credentials they use. */
export interface Env {
  /** API origin, e.g. `http://127.0.0.1:40123`. */
  api: string
  /** Token endpoint on another origin. */
  tokenUrl: string
  clientId: string
  clientSecret: string
}

export interface BenchServer {
  env: Env
  reset(): Promise<void>
  revoke(): Promise<void>
  stats(): Promise<ServerStats>
  configure(options: { tokenDelay: number }): Promise<void>
  /** A valid token, for the bare clients' fixed header. */
  token(): Promise<string>
  close(): Promise<void>
}

/** Starts src/server.ts in a child process (its own core) and returns its controls. */
export async function startServer(): Promise<BenchServer> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [], {
    // Resolved here, so the child finds tsx whatever the working directory is.
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const { apiPort, tokenPort } = await new Promise<{ apiPort: number; tokenPort: number }>(
    (resolve, reject) => {
      child.once('message', (message) => resolve(message as { apiPort: number; tokenPort: number }))
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
    },
  )
  const env: Env = {
    api: `http://127.0.0.1:${apiPort}`,
    tokenUrl: `http://127.0.0.1:${tokenPort}/token`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  }
  const control = (path: string, method = 'POST') => call(`${env.api}${path}`, method)
  return {
    env,
    reset: async () => void (await control('/__reset')),
    revoke: async () => void (await control('/__revoke')),
    stats: () => control('/__stats', 'GET') as Promise<ServerStats>,
    configure: async ({ tokenDelay }) => void (await control(`/__config?tokenDelay=${tokenDelay}`)),
    token: async () => {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      })
      const body = (await call(env.tokenUrl, 'POST', form.toString())) as { access_token: string }
      return body.access_token
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill()
      }),
  }
}

/**
 * Control calls go through node:http, not fetch: a peer under test may have replaced the
 * global fetch dispatcher (undici-oidc-interceptor's example does).
 */
function call(url: string, method: string, body?: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`))
          else resolve(JSON.parse(text))
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
