import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium; any Chromium works through `CHROMIUM_PATH`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// Headless, and nothing that reaches beyond the loopback.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** Tabs of one headless Chromium window on the app's page. */
export interface Tabs {
  /** Clicks "Load orders" in every tab at once; each tab's status and what its page shows. */
  loadAll(): Promise<{ status: number; shown: string }[]>
  close(): Promise<void>
}

/** Opens `count` tabs of `url` in one browser context (same origin: they share locks and channels). */
export async function openTabs(url: string, count: number): Promise<Tabs> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: FLAGS,
    timeout: 20_000,
  })
  try {
    const context = await browser.newContext()
    const pages: Page[] = []
    for (let i = 0; i < count; i++) {
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => 'ordersApp' in globalThis)
      pages.push(page)
    }
    return {
      loadAll: () =>
        Promise.all(
          pages.map(async (page) => {
            const status = await page.evaluate(() =>
              (
                globalThis as unknown as { ordersApp: { loadOrders(): Promise<number> } }
              ).ordersApp.loadOrders(),
            )
            return { status, shown: (await page.locator('output').textContent()) ?? '' }
          }),
        ),
      close: () => browser.close(),
    }
  } catch (error) {
    await browser.close()
    throw error
  }
}
