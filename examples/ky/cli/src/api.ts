import { clientCredentials, type TokenEvent } from '@oauth-interceptors/core'
import { oauthOptions } from '@oauth-interceptors/ky'
import ky from 'ky'

export interface ApiConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
  /** Told about every token request; never given a secret. */
  onEvent?: (event: TokenEvent) => void
}

/** A ky instance whose requests to `apiUrl` carry a client-credentials token. */
export function createApi(config: ApiConfig) {
  return ky.create({
    prefixUrl: config.apiUrl,
    timeout: 10_000,
    ...oauthOptions({
      grant: clientCredentials({
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...(config.resource && { resource: config.resource }),
      }),
      ...(config.onEvent && { onEvent: config.onEvent }),
      // ky cannot show the adapter its prefixUrl, so name the origin the token belongs to.
      origins: config.apiUrl,
    }),
  })
}
