import {
  bffEnvironment,
  startUserLoginServer,
  type UserLoginServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, vi } from 'vitest'
import { startWorkerd } from '../examples/hono/workerd-bff/src/workerd'
import { bffContract } from './support/bff-contract'

// The Hono app bundled with esbuild and served by workerd (the `workerd` npm package's binary):
// the edge BFF, with the manager's sessions in the isolate's memory.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 90_000 })

let login: UserLoginServer
let workerd: Awaited<ReturnType<typeof startWorkerd>>

beforeAll(async () => {
  login = await startUserLoginServer()
  workerd = await startWorkerd(bffEnvironment(login))
})

afterAll(async () => {
  await workerd?.close()
  await login?.close()
})

describe('examples/hono/workerd-bff: per-user tokens through oauthFetch, on workerd', () => {
  bffContract(() => ({ url: workerd.url, login }))
})
