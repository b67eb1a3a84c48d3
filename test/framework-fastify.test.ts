import { startUserLoginServer, type UserLoginServer } from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, vi } from 'vitest'
import { createBff } from '../examples/fastify/bff/src/app'
import { bffContract } from './support/bff-contract'

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

let login: UserLoginServer
let app: ReturnType<typeof createBff>
let url: string

beforeAll(async () => {
  login = await startUserLoginServer()
  app = createBff(login)
  url = await app.listen({ port: 0, host: '127.0.0.1' })
})

afterAll(async () => {
  await app?.close()
  await login?.close()
})

describe('examples/fastify/bff: per-user tokens through undici', () => {
  bffContract(() => ({ url, login }))
})
