import { spawn } from 'node:child_process'
import {
  bffEnvironment,
  startUserLoginServer,
  visitAsBrowser,
} from '@oauth-interceptors/demo-servers'

// Runs the built app (`next build` first: `pnpm start` does both) with `next start`, against an
// embedded login server, which approves every login at once and hosts the API; logs a user in,
// calls the BFF, logs out, and stops.
const login = await startUserLoginServer()
const port = process.env.PORT ?? '0'
const server = spawn('pnpm', ['exec', 'next', 'start', '-H', '127.0.0.1', '-p', port], {
  env: {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    ...bffEnvironment(login),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
})
const bff = await new Promise<string>((resolve) => {
  let output = ''
  server.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    const match = /Local:\s+(http:\/\/\S+)[\s\S]*Ready in/.exec(output)
    if (match?.[1]) resolve(match[1])
  })
})
console.log(`BFF listening on ${bff}`)

try {
  await visitAsBrowser(bff)
} finally {
  if (!process.env.PORT) {
    // pnpm exec runs next as a child: end the whole group.
    if (server.pid) process.kill(-server.pid, 'SIGTERM')
    await login.close()
  }
}
