import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  bffEnvironment,
  startUserLoginServer,
  type UserLoginServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { bffContract, logIn } from './support/bff-contract'
import { type ServerProcess, startServerProcess } from './support/server-process'

// A real `next build` (Turbopack) and `next start`: App Router route handlers calling the API
// through oauthFetch, with Next's patched fetch underneath.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 240_000 })

const example = fileURLToPath(new URL('../examples/next/app-router-bff/', import.meta.url))
const quiet = { NEXT_TELEMETRY_DISABLED: '1' }
let login: UserLoginServer
let next: ServerProcess

beforeAll(async () => {
  await promisify(execFile)('pnpm', ['exec', 'next', 'build'], {
    cwd: example,
    env: { ...process.env, ...quiet },
  })
  login = await startUserLoginServer()
  next = await startServerProcess('pnpm', ['exec', 'next', 'start', '-H', '127.0.0.1', '-p', '0'], {
    cwd: example,
    env: { ...bffEnvironment(login), ...quiet },
    ready: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)[\s\S]*Ready in/,
  })
})

afterAll(async () => {
  await next?.close()
  await login?.close()
})

describe('examples/next/app-router-bff: per-user tokens through oauthFetch, built with next build', () => {
  bffContract(() => ({ url: next.url, login }))

  it("sends every call and every refresh through Next's fetch: nothing is answered from its cache", async () => {
    const erin = await logIn(next.url, 'erin')
    login.clearRecords()

    for (let round = 0; round < 2; round++) {
      const same = await fetch(`${next.url}/me/orders?status=open`, { headers: { cookie: erin } })
      expect(same.status).toBe(200)
    }
    login.expireAccessTokens()
    expect((await fetch(`${next.url}/me/orders`, { headers: { cookie: erin } })).status).toBe(200)
    login.expireAccessTokens()
    expect((await fetch(`${next.url}/me/orders`, { headers: { cookie: erin } })).status).toBe(200)

    // 2 identical calls, then 2 × (the rejected call and its retry with a new token).
    expect(login.apiRequests).toHaveLength(6)
    expect(login.refreshes().map(({ user }) => user)).toEqual(['erin', 'erin'])
    expect(login.tokenRequests).toHaveLength(2)
  })
})
