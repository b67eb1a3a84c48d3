import type { AddressInfo } from 'node:net'
import {
  type AuthorizationServer,
  DEMO_CLIENTS,
  RESOURCES,
  type ResourceServer,
  startAuthorizationServer,
  startResourceServer,
  startUserLoginServer,
  type UserLoginServer,
} from '@oauth-interceptors/demo-servers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createBff } from '../examples/express/bff/src/app'
import { bffContract, logIn, tokensOf } from './support/bff-contract'

// The Express BFF with both kinds of token: its service token on /api/*, and each signed-in
// user's own token on /me/*.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })

let login: UserLoginServer
let as: AuthorizationServer
let api: ResourceServer
let url: string
let close: () => void

beforeAll(async () => {
  login = await startUserLoginServer()
  as = await startAuthorizationServer({ accessTokenTTL: 60 })
  api = await startResourceServer(as, { resource: RESOURCES.opaque, record: true })
  const server = createBff({
    apiUrl: api.url,
    tokenUrl: as.tokenUrl,
    clientId: DEMO_CLIENTS.basic.clientId,
    clientSecret: DEMO_CLIENTS.basic.clientSecret,
    resource: RESOURCES.opaque,
    users: login,
  }).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => {
    server.closeAllConnections()
    server.close()
  }
})

afterAll(async () => {
  close?.()
  await Promise.all([login?.close(), api?.close()])
  await as?.close()
})

describe('examples/express/bff: per-user tokens', () => {
  bffContract(() => ({ url, login }))

  it('keeps the service token on /api/* while users are signed in', async () => {
    const cookie = await logIn(url, 'erin')
    api.reset()

    const [service, user] = await Promise.all([
      fetch(`${url}/api/orders`, { headers: { cookie } }),
      fetch(`${url}/me/orders`, { headers: { cookie } }),
    ])

    expect(service.status).toBe(200)
    expect(user.status).toBe(200)
    expect(api.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${as.latestToken(DEMO_CLIENTS.basic.clientId)}`,
    ])
    expect(login.apiRequests.at(-1)?.headers.authorization).toBe(
      `Bearer ${tokensOf(login, 'erin').accessToken}`,
    )
  })
})
