// The test page's script, bundled by chromium.test.ts: one tab of the app.
import { browserTokenStore } from '../src/index'
import { openTab } from './tab'

const origin = location.origin
;(globalThis as unknown as { tab: unknown }).tab = openTab({
  store: browserTokenStore({ name: 'chromium-test' }),
  tokenUrl: `${origin}/token`,
  apiUrl: `${origin}/api`,
  refreshToken: 'refresh-0',
})
