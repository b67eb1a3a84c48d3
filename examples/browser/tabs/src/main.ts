import { startAppServer } from './server'
import { openTabs } from './tabs'

// `pnpm start`: three headless Chromium tabs load the orders, the API revokes the token, and
// they load them again; prints what the token endpoint saw. `pnpm serve`: serve the app for
// your own browser (open the URL in several tabs) until Ctrl+C.
const serveOnly = process.argv.includes('--serve')
const app = await startAppServer(serveOnly ? Number(process.env.PORT ?? 5173) : 0)
if (serveOnly) {
  console.log(`Serving ${app.url} — open it in several tabs; Ctrl+C stops.`)
} else {
  const tabs = await openTabs(app.url, 3)
  try {
    console.log('3 tabs, first load →', await tabs.loadAll())
    app.revokeAccess()
    console.log('after a revocation →', await tabs.loadAll())
    console.log('refresh tokens sent to the token endpoint:', app.refreshes)
    console.log('refresh tokens reused:', app.reused.length)
  } finally {
    await tabs.close()
    await app.close()
  }
}
