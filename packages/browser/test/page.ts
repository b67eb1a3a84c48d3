// The test page's script, bundled by chromium.test.ts: one tab of the app. The query string
// picks the store's options (`name`, and `persist` for localStorage) and the tab's first
// refresh token (`refresh`).
import { browserTokenStore } from '../src/index'
import { openTab } from './tab'

const origin = location.origin
const params = new URLSearchParams(location.search)
const store = browserTokenStore({
  name: params.get('name') ?? 'chromium-test',
  ...(params.has('persist') && { persist: localStorage }),
})
Object.assign(globalThis, {
  store,
  tab: openTab({
    store,
    tokenUrl: `${origin}/oauth/token`,
    apiUrl: `${origin}/api/orders`,
    refreshToken: params.get('refresh') ?? 'refresh-0',
  }),
})
