import { fileURLToPath } from 'node:url'
import {
  bffEnvironment,
  startUserLoginServer,
  type UserLoginServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, vi } from 'vitest'
import { bffContract } from './support/bff-contract'
import { type ServerProcess, startServerProcess } from './support/server-process'

// NestJS as `pnpm start` runs it (tsx, its own process): HttpService with the interceptor
// attached to its axiosRef.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 90_000 })

let login: UserLoginServer
let nest: ServerProcess

beforeAll(async () => {
  login = await startUserLoginServer()
  nest = await startServerProcess(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: fileURLToPath(new URL('../examples/nestjs/bff/', import.meta.url)),
      env: { ...bffEnvironment(login), PORT: '0' },
    },
  )
})

afterAll(async () => {
  await nest?.close()
  await login?.close()
})

describe('examples/nestjs/bff: per-user tokens through @nestjs/axios HttpService', () => {
  bffContract(() => ({ url: nest.url, login }))
})
