// The browser page's script (bundled): the harness calls runCells through Playwright.
import { runCells } from './all.mjs'

globalThis.runCells = runCells
