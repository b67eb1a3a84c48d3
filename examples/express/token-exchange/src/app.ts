import { oauthInterceptor } from '@oauth-interceptors/axios'
import { createTokenManager, isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { tokenExchange } from '@oauth-interceptors/core/token-exchange'
import axios, { isAxiosError } from 'axios'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'

export interface GatewayConfig {
  /** The API behind this service, e.g. `https://orders.internal.example.com`. */
  apiUrl: string
  tokenUrl: string
  /** This service's own client at the authorization server, allowed to exchange tokens. */
  clientId: string
  clientSecret: string
  /** The resource indicator (RFC 8707) of the API behind. */
  resource: string
}

/**
 * A service in the middle: each caller sends its own access token; the service trades it for a
 * token of the API behind it (RFC 8693 token exchange) and calls that API on the caller's
 * behalf through axios. One manager for every caller: each caller's token is exchanged once and
 * cached by its hash, a 401 from the API exchanges it once more, and concurrent requests of one
 * caller share one exchange.
 */
export function createGateway(config: GatewayConfig): { app: Express; stats: () => object } {
  const tokens = createTokenManager({
    grant: tokenExchange({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      resource: config.resource,
    }),
  })
  const upstream = axios.create({ baseURL: config.apiUrl, timeout: 10_000 })
  oauthInterceptor(tokens).attach(upstream)

  const app = express()
  app.disable('x-powered-by')

  app.get('/orders', async (req, res) => {
    const subjectToken = bearerToken(req)
    if (!subjectToken) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'invalid_token' })
      return
    }
    // The caller's token is the subject token; axios sends the exchanged one.
    const response = await upstream.get('/orders', { tokenOptions: { subjectToken } })
    res.json(response.data)
  })

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isOAuthInterceptorsError(error)) {
      // invalid_grant: the caller's token was refused for the exchange. The error holds no token.
      const status = error.code === 'invalid_grant' ? 401 : 503
      res.status(status).json({ error: 'token_exchange_failed', code: error.code })
    } else if (isAxiosError(error) && error.response) {
      res.status(error.response.status).json({ error: 'upstream_error' })
    } else {
      res.status(502).json({ error: 'bad_gateway' })
    }
  })
  return { app, stats: () => tokens.stats() }
}

function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(req.get('authorization') ?? '')
  return match?.[1]
}
