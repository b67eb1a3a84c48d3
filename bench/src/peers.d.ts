// Two peers ship no type declarations; these describe what the benchmark uses of them.

declare module 'axios-token-interceptor' {
  import type { InternalAxiosRequestConfig } from 'axios'

  interface TokenProviderOptions<T> {
    token?: T
    getToken?: () => T | Promise<T>
    header?: string
    headerFormatter?: (token: T) => string
  }
  interface TokenCache<T> {
    (): Promise<T>
    reset(): void
  }
  interface TokenProvider {
    <T>(
      options: TokenProviderOptions<T>,
    ): (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>
    tokenCache<T>(
      getToken: () => Promise<T>,
      options: { maxAge?: number; getMaxAge?: (token: T) => number },
    ): TokenCache<T>
  }
  const tokenProvider: TokenProvider
  export default tokenProvider
}

declare module 'undici-oidc-interceptor' {
  import type { Dispatcher } from 'undici'

  export interface OidcInterceptorOptions {
    clientId: string
    clientSecret?: string
    idpTokenUrl: string
    refreshToken?: string
    retryOnStatusCodes?: number[]
    urls?: string[]
    accessToken?: string
    scope?: string
    resource?: string | string[]
    audience?: string
    contentType?: 'json'
  }
  export function createOidcInterceptor(
    options: OidcInterceptorOptions,
  ): Dispatcher.DispatcherComposeInterceptor
}
