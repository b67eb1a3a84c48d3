import {
  type RotatingTokenServer,
  startRotatingTokenServer,
} from '@oauth-interceptors/demo-servers/rotating-token-server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BrowserTokenStore, browserTokenStore } from '../src/index'
import { fakeLocks } from './fake-locks'
import { openTab } from './tab'

// Node has BroadcastChannel (shared by the instances in one process) but no Web Locks: a fake
// lock manager stands in for the browser's. Real Chromium: chromium.test.ts.
describe('tabs sharing a browser token store', () => {
  let server: RotatingTokenServer
  let scenario = 0
  const stores: BrowserTokenStore[] = []

  const openTabs = (count: number) => {
    const locks = fakeLocks()
    return Array.from({ length: count }, () => {
      const store = browserTokenStore({ name: `tabs-${scenario}`, locks })
      stores.push(store)
      return openTab({
        store,
        tokenUrl: server.tokenUrl,
        apiUrl: server.apiUrl,
        refreshToken: 'refresh-0',
      })
    })
  }

  beforeEach(async () => {
    server = await startRotatingTokenServer({ initialRefreshToken: 'refresh-0' })
  })
  afterEach(async () => {
    for (const store of stores.splice(0)) store.close()
    scenario++
    await server?.close()
  })

  it('refreshes a rotating refresh token once when three tabs get a 401 at once', async () => {
    const tabs = openTabs(3)
    expect(await Promise.all(tabs.map((tab) => tab.call()))).toEqual([200, 200, 200])
    const before = server.refreshes.length
    server.revokeAccess()

    expect(await Promise.all(tabs.map((tab) => tab.call()))).toEqual([200, 200, 200])

    expect(server.refreshes.length - before).toBe(1)
    expect(server.reused).toEqual([])
    const current = server.current()
    expect(await Promise.all(tabs.map((tab) => tab.token()))).toEqual([current, current, current])
  })

  it('gives a tab opened later the token of the open tabs instead of a refresh', async () => {
    const [first] = openTabs(1)
    expect(await first?.call()).toBe(200)
    const before = server.refreshes.length
    // The same lock manager and channel name: a second tab of the same origin.
    const store = browserTokenStore({ name: `tabs-${scenario}`, locks: fakeLocks() })
    stores.push(store)
    const later = openTab({
      store,
      tokenUrl: server.tokenUrl,
      apiUrl: server.apiUrl,
      refreshToken: 'refresh-0',
    })

    expect(await later.call()).toBe(200)
    expect(server.refreshes.length).toBe(before)
    expect(later.stats().fromStore).toBe(1)
  })
})
