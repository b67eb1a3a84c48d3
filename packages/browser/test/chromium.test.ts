import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuthServer, startAuthServer } from './servers'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

interface Tab {
  call(): Promise<number>
  token(): Promise<string>
}

// Real Web Locks and BroadcastChannel: three pages of one browser context on one loopback
// origin (http://127.0.0.1 is a secure context).
describe.skipIf(!existsSync(CHROMIUM))('three tabs in headless Chromium', () => {
  let server: AuthServer
  let browser: Browser
  let pages: Page[]

  beforeAll(async () => {
    const bundled = await build({
      entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['source'],
      write: false,
    })
    server = await startAuthServer('refresh-0', {
      '/': {
        type: 'text/html',
        body: '<!doctype html><title>tab</title><script type="module" src="/page.js"></script>',
      },
      '/page.js': { type: 'text/javascript', body: bundled.outputFiles[0]?.text ?? '' },
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 20_000 })
    const context = await browser.newContext()
    pages = await Promise.all([0, 1, 2].map(() => context.newPage()))
    for (const page of pages) {
      await page.goto(`${server.origin}/`)
      await page.waitForFunction(() => 'tab' in globalThis)
    }
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const inTab = (page: Page, what: 'call' | 'token') =>
    page.evaluate(
      (name): Promise<number | string> => (globalThis as unknown as { tab: Tab }).tab[name](),
      what,
    )

  it('refreshes once when all three get a 401 at once, and never reuses the rotated refresh token', async () => {
    expect(await Promise.all(pages.map((page) => inTab(page, 'call')))).toEqual([200, 200, 200])
    expect(server.refreshes).toEqual(['refresh-0'])
    server.revokeAccess()

    expect(await Promise.all(pages.map((page) => inTab(page, 'call')))).toEqual([200, 200, 200])

    expect(server.refreshes).toEqual(['refresh-0', 'refresh-1'])
    expect(server.reused).toEqual([])
    const current = server.current()
    expect(current).toBe('access-2')
    expect(await Promise.all(pages.map((page) => inTab(page, 'token')))).toEqual([
      current,
      current,
      current,
    ])
  }, 20_000)
})
