import { type Browser, chromium } from 'playwright-core'

/**
 * The Chromium the browser tests, the browser example and the runtime matrix drive: Debian's
 * (`apt-get install chromium`), or any other through `CHROMIUM_PATH`. A tool's own browser
 * download is not used.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Headless, and nothing that reaches beyond the loopback. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** Starts {@link CHROMIUM} headless, giving up after `timeout` ms. */
export function launchChromium(timeout = 20_000): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout })
}
