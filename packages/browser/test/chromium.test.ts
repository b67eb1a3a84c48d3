import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CHROMIUM, launchChromium } from '@oauth-interceptors/demo-servers/chromium'
import {
  type RotatingTokenServer,
  startRotatingTokenServer,
} from '@oauth-interceptors/demo-servers/rotating-token-server'
import { build } from 'esbuild'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface Tab {
  call(): Promise<number>
  token(): Promise<string>
}

/** One loopback origin serving the test page, and a Chromium whose tabs open it. */
interface Session {
  server: RotatingTokenServer
  browser: Browser
  context: BrowserContext
  /** A new tab of the page, with `query` for the store's options (see page.ts). */
  open(query?: string): Promise<Page>
}

async function startSession(): Promise<Session> {
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    write: false,
  })
  const server = await startRotatingTokenServer({
    initialRefreshToken: 'refresh-0',
    files: {
      '/': {
        type: 'text/html',
        body: '<!doctype html><title>tab</title><script type="module" src="/page.js"></script>',
      },
      '/page.js': { type: 'text/javascript', body: bundled.outputFiles[0]?.text ?? '' },
    },
  })
  const browser = await launchChromium()
  const context = await browser.newContext()
  return {
    server,
    browser,
    context,
    open: async (query = '') => {
      const page = await context.newPage()
      await page.goto(`${server.origin}/${query}`)
      await page.waitForFunction(() => 'tab' in globalThis)
      return page
    },
  }
}

const inTab = (page: Page, what: 'call' | 'token') =>
  page.evaluate(
    (name): Promise<number | string> => (globalThis as unknown as { tab: Tab }).tab[name](),
    what,
  )

// Real Web Locks and BroadcastChannel: three pages of one browser context on one loopback
// origin (http://127.0.0.1 is a secure context).
describe.skipIf(!existsSync(CHROMIUM))('three tabs in headless Chromium', () => {
  let session: Session
  let pages: Page[]

  beforeAll(async () => {
    session = await startSession()
    pages = []
    for (let i = 0; i < 3; i++) pages.push(await session.open())
  }, 30_000)
  afterAll(async () => {
    await session?.browser.close()
    await session?.server.close()
  })

  it('refreshes once when all three get a 401 at once, and never reuses the rotated refresh token', async () => {
    const { server } = session
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

/** What the store keeps in localStorage under its `name`. */
const stored = (page: Page, name: string) =>
  page.evaluate(
    (prefix) =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith(prefix))
        .map((key) => JSON.parse(localStorage.getItem(key) ?? 'null')),
    `${name}:token:`,
  )

describe.skipIf(!existsSync(CHROMIUM))('the persist and ttlMs options in headless Chromium', () => {
  let session: Session

  beforeAll(async () => {
    session = await startSession()
  }, 30_000)
  afterAll(async () => {
    await session?.browser.close()
    await session?.server.close()
  })

  it('with persist: localStorage, a tab opened after the last one closed starts with the stored token and makes no token request', async () => {
    const { server } = session
    const first = await session.open('?name=kept&persist')
    expect(await inTab(first, 'call')).toBe(200)
    expect(server.refreshes).toEqual(['refresh-0'])
    expect(await stored(first, 'kept')).toMatchObject([
      { accessToken: 'access-1', refreshToken: 'refresh-1', tokenType: 'Bearer' },
    ])
    await first.close()

    const later = await session.open('?name=kept&persist')
    expect(await inTab(later, 'call')).toBe(200)

    expect(await inTab(later, 'token')).toBe('access-1')
    expect(server.refreshes).toEqual(['refresh-0'])
    await later.close()
  }, 20_000)

  it('without persist, nothing is written to localStorage, and a tab opened after the last one closed must refresh', async () => {
    const { server } = session
    const before = server.refreshes.length
    // The persist test above left refresh-1 as the endpoint's current refresh token.
    const first = await session.open('?name=memory-only&refresh=refresh-1')
    expect(await inTab(first, 'call')).toBe(200)
    expect(await stored(first, 'memory-only')).toEqual([])
    expect(await first.evaluate(() => Object.keys(localStorage))).toEqual([
      expect.stringMatching(/^kept:token:/),
    ])
    await first.close()

    const later = await session.open('?name=memory-only&refresh=refresh-2')
    expect(await inTab(later, 'call')).toBe(200)

    expect(server.refreshes.slice(before)).toEqual(['refresh-1', 'refresh-2'])
    expect(server.reused).toEqual([])
    await later.close()
  }, 20_000)

  it('a refresh lock that is never released ends after its ttlMs: the waiting tab wakes and takes it', async () => {
    const [holder, waiter] = [await session.open('?name=ttl'), await session.open('?name=ttl')]
    type Held = { release(): void } | undefined
    type Store = {
      acquire(key: string, ttlMs: number): Promise<Held>
      waitForChange(key: string, timeoutMs: number): Promise<void>
    }
    const acquire = (page: Page) =>
      page.evaluate(async () => {
        const { store } = globalThis as unknown as { store: Store; held?: Held }
        const held = await store.acquire('orders', 1_000)
        Object.assign(globalThis, { held })
        return held !== undefined
      })

    expect(await acquire(holder)).toBe(true)
    expect(await acquire(waiter)).toBe(false)
    // The holder never calls release(); waitForChange's own timeout (20 s) is far off.
    const waited = await waiter.evaluate(async () => {
      const { store } = globalThis as unknown as { store: Store }
      const started = performance.now()
      await store.waitForChange('orders', 20_000)
      return performance.now() - started
    })

    expect(waited).toBeGreaterThan(500)
    expect(waited).toBeLessThan(10_000)
    expect(await acquire(waiter)).toBe(true)
    await waiter.evaluate(() => (globalThis as unknown as { held: Held }).held?.release())
  }, 30_000)
})
