import { spawn } from 'node:child_process'
import {
  bffEnvironment,
  startUserLoginServer,
  visitAsBrowser,
} from '@oauth-interceptors/demo-servers'

// Runs the built server (`nitropack build` first: `pnpm start` does both) against an embedded
// login server, which approves every login at once and hosts the API; logs a user in, calls the
// BFF, logs out, and stops.
const login = await startUserLoginServer()
const server = spawn(process.execPath, ['.output/server/index.mjs'], {
  env: {
    ...process.env,
    NITRO_HOST: '127.0.0.1',
    NITRO_PORT: process.env.PORT ?? '0',
    ...bffEnvironment(login),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const bff = await new Promise<string>((resolve) => {
  server.stdout.on('data', (chunk: Buffer) => {
    const match = /listening on (http:\/\/\S+)/i.exec(chunk.toString())
    if (match?.[1]) resolve(match[1])
  })
})
console.log(`BFF listening on ${bff}`)

try {
  await visitAsBrowser(bff)
} finally {
  if (!process.env.PORT) {
    server.kill()
    await login.close()
  }
}
