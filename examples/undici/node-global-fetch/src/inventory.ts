import { clientCredentials, isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { oauthInterceptor } from '@oauth-interceptors/undici'
import { Agent, getGlobalDispatcher, interceptors, setGlobalDispatcher } from 'undici'

export interface InventoryConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
}

/**
 * Gives every request of Node's global `fetch` (and `undici.request`) to `apiUrl`'s origin a
 * token, through the global dispatcher. Other origins get none, also after a redirect.
 * @returns a function that puts the previous global dispatcher back
 */
export function installOAuth(config: InventoryConfig): () => void {
  const previous = getGlobalDispatcher()
  const interceptor = oauthInterceptor({
    grant: clientCredentials({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.resource && { resource: config.resource }),
    }),
    // A dispatcher has no base URL: name the origins that may receive the token.
    origins: [new URL(config.apiUrl).origin],
  })
  // A new Agent of this undici: the global dispatcher may be Node's own, older undici. The
  // redirect interceptor (for undici.request; fetch follows redirects itself) goes after the
  // OAuth one, so that every hop passes through it.
  const redirect = interceptors.redirect({ maxRedirections: 5 })
  const agent = new Agent()
  setGlobalDispatcher(agent.compose(interceptor, redirect))
  return () => {
    setGlobalDispatcher(previous)
    void agent.close()
  }
}

/** Reads a stock level with plain global fetch: the token comes from the global dispatcher. */
export async function stockOf(apiUrl: string, sku: string): Promise<unknown> {
  try {
    const response = await fetch(new URL(`/stock/${encodeURIComponent(sku)}`, apiUrl), {
      signal: AbortSignal.timeout(5_000),
    })
    if (!response.ok) throw new Error(`Inventory API answered ${response.status}`)
    return await response.json()
  } catch (error) {
    // fetch wraps dispatcher errors in "fetch failed": token errors are its cause.
    const cause = (error as { cause?: unknown }).cause
    if (isOAuthInterceptorsError(cause))
      throw new Error(`No token for the inventory API: ${cause.code}`)
    throw error
  }
}
