import { launchChromium } from '@oauth-interceptors/demo-servers/chromium'
import type { Browser, Page } from 'playwright-core'

/** Tabs of one headless Chromium window on the app's page. */
export interface Tabs {
  /** Clicks "Load orders" in every tab at once; each tab's status and what its page shows. */
  loadAll(): Promise<{ status: number; shown: string }[]>
  close(): Promise<void>
}

/** Opens `count` tabs of `url` in one browser context (same origin: they share locks and channels). */
export async function openTabs(url: string, count: number): Promise<Tabs> {
  const browser: Browser = await launchChromium()
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
