import { type App, createApp, createRouter, toNodeListener, toWebHandler } from 'h3'
import ordersRoute from '../server/routes/orders.get'

/** What Nitro builds from server/routes/, by hand: an h3 app with the orders route. */
export function createServerApp(): App {
  const app = createApp()
  app.use(createRouter().get('/orders', ordersRoute))
  return app
}

/** The app as a Node `request` listener, for `http.createServer`. */
export const nodeListener = () => toNodeListener(createServerApp())

/** The app as a web handler, `(request: Request) => Promise<Response>`. */
export const webHandler = () => toWebHandler(createServerApp())
