import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  bffEnvironment,
  startUserLoginServer,
  type UserLoginServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, vi } from 'vitest'
import { bffContract } from './support/bff-contract'
import { type ServerProcess, startServerProcess } from './support/server-process'

// A real `nitropack build`, then its node-server output, with routes calling the API through
// $fetch.create(oauthOptions(...)).
vi.setConfig({ testTimeout: 30_000, hookTimeout: 180_000 })

const example = fileURLToPath(new URL('../examples/nitro/bff/', import.meta.url))
let login: UserLoginServer
let nitro: ServerProcess

beforeAll(async () => {
  await promisify(execFile)('pnpm', ['exec', 'nitropack', 'build'], {
    cwd: example,
    env: { ...process.env, NITRO_PRESET: 'node-server' },
  })
  login = await startUserLoginServer()
  nitro = await startServerProcess(process.execPath, ['.output/server/index.mjs'], {
    cwd: example,
    env: { ...bffEnvironment(login), NITRO_HOST: '127.0.0.1', NITRO_PORT: '0' },
  })
})

afterAll(async () => {
  await nitro?.close()
  await login?.close()
})

describe('examples/nitro/bff: per-user tokens through $fetch, built with nitropack', () => {
  bffContract(() => ({ url: nitro.url, login }))
})
