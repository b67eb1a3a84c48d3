import { fileURLToPath } from 'node:url'
import { startRotatingTokenServer } from '@oauth-interceptors/demo-servers/rotating-token-server'
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
 * Serves the page (src/app.ts, bundled with esbuild) on a loopback origin with a token endpoint
 * that rotates refresh tokens (each may be used once: a second use is refused, as providers with
 * rotation do) and an API that accepts only the newest access token.
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
  const login = 'refresh-0'
  const server = await startRotatingTokenServer({
    initialRefreshToken: login,
    port,
    files: {
      '/': { type: 'text/html', body: PAGE },
      '/app.js': { type: 'text/javascript', body: bundled.outputFiles[0]?.text ?? '' },
      // What the app's server side hands the page after the login: its first refresh token.
      '/session': { type: 'application/json', body: JSON.stringify({ refreshToken: login }) },
    },
  })
  return {
    url: `${server.origin}/`,
    refreshes: server.refreshes,
    reused: server.reused,
    revokeAccess: () => server.revokeAccess(),
    close: () => server.close(),
  }
}
