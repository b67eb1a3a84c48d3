import type { AuthConfig, ResponseLike, TokenManager } from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type Exchange,
  type ExchangeOptions,
  isReplayableBody,
  type RequestPolicy,
  requestUrl,
  withManager,
} from '@oauth-interceptors/core/adapter'
import {
  AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  CanceledError,
  type InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios'
import { type Call, holdRedirects, nextHop } from './redirects'

declare module 'axios' {
  // Type parameters as axios declares them (their defaults are axios' own).
  interface AxiosRequestConfig<D, P> {
    /**
     * Send this request without the token and static headers, even to an allowed origin.
     * @default false
     * @example api.get('/health', { skipAuth: true })
     */
    skipAuth?: boolean | undefined
  }
}

/** An interceptor pair over one token manager; attach it to any number of axios instances. */
export interface OAuthInterceptor {
  /** The manager every attached instance reads its tokens from. */
  readonly manager: TokenManager
  /**
   * Installs the request and response interceptors on `instance` (an `axios.create()` instance
   * or the default `axios`). Default allowed origin: the origin of `instance.defaults.baseURL`.
   * @returns a function that removes both interceptors again
   * @throws ConfigError when the instance has no `baseURL` and no `origins` were given
   */
  attach(instance: AxiosInstance): () => void
}

/**
 * OAuth 2.0 access tokens for axios: adds the token to requests for the allowed origins, and on
 * a rejected token (a 401 by default) refreshes once and sends the request once more. The
 * request's `timeout` and `signal` bound its wait for a token too, rejecting as axios does.
 * @param config a `TokenManager`, its options (`{ grant, ... }`) or `{ manager }`, plus the
 * request policy: `origins`, `header`, `scheme`, `headers`, `shouldRefresh`
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' })
 * const detach = oauthInterceptor({
 *   grant: clientCredentials({ tokenUrl, clientId, clientSecret }),
 * }).attach(api)
 */
export function oauthInterceptor(config: AuthConfig): OAuthInterceptor {
  // One manager for every instance; a policy per instance, as its baseURL is the default origin.
  const shared = withManager(config)

  return {
    manager: shared.manager,
    attach(instance) {
      const { baseURL } = instance.defaults
      const policy = createRequestPolicy(shared, {
        baseUrl: absolute(baseURL) ?? baseURL,
        client: 'the axios instance',
      })
      const request = instance.interceptors.request.use(async (config: Call) => {
        const exchange = config._oauthExchange ?? begin(policy, config)
        if (!exchange) return config
        const credentials = await exchange.credentials(config._oauthHop)
        if (credentials) config.headers.set(credentials)
        return config
      })
      // The request sent once more: a redirect hop held back from the platform, or the retry.
      const next = (response: AxiosResponse | undefined) => {
        const config: Call | undefined = response?.config
        const exchange = config?._oauthExchange
        if (!response || !config || !exchange) return
        const hop = nextHop(response, (config) => absolute(instance.getUri(config))?.href)
        if (hop) return instance.request(hop)
        const rejection = response as unknown as ResponseLike // axios' headers have get()
        if (!exchange.mayRetry(rejection)) return
        const landed = (response.request as { res?: { responseUrl?: string } })?.res?.responseUrl
        if (!exchange.retry(rejection, isReplayableBody(config.data), landed)) return
        const retry: Call = { ...(config._oauthFirst ?? config), _oauthHop: undefined }
        return instance.request(retry)
      }
      const response = instance.interceptors.response.use(
        (response) => next(response) ?? response,
        (error: unknown) =>
          next(isAxiosError(error) ? error.response : undefined) ?? Promise.reject(error),
      )
      return () => {
        instance.interceptors.request.eject(request)
        instance.interceptors.response.eject(response)
      }
    },
  }
}

/** Starts the exchange of a request the policy applies to, bounded as axios bounds it. */
function begin(policy: RequestPolicy, config: Call): Exchange | undefined {
  const url = absolute(fullPath(config))
  const { signal, timeout } = config
  const options: ExchangeOptions = { skipAuth: config.skipAuth }
  // axios accepts signal-like objects; only a real one can be listened to.
  if (typeof signal?.addEventListener === 'function') {
    options.signal = signal as AbortSignal
    options.abortError = () => new CanceledError(undefined, config)
  }
  if (timeout) Object.assign(options, { timeout, timeoutError: () => timeoutError(config) })
  const exchange = url && policy.exchange(url, options)
  if (!exchange) return undefined
  config._oauthExchange = exchange
  if (policy.followsRedirects) holdRedirects(config)
  // follow-redirects strips only `authorization` and `cookie`, and only for another host.
  const { beforeRedirect } = config
  config.beforeRedirect = (options, ...details) => {
    exchange.strip(typeof options.href === 'string' ? options.href : '', options.headers ?? {})
    beforeRedirect?.(options, ...details)
  }
  return exchange
}

/** The error axios rejects with when `timeout` passes. */
function timeoutError(config: InternalAxiosRequestConfig): AxiosError {
  const message = config.timeoutErrorMessage || `timeout of ${config.timeout}ms exceeded`
  const code = config.transitional?.clarifyTimeoutError
    ? AxiosError.ETIMEDOUT
    : AxiosError.ECONNABORTED
  return new AxiosError(message, code, config)
}

/** `url` made absolute (relative URLs against the page in a browser), or undefined. */
function absolute(url: string | undefined): URL | undefined {
  return url ? requestUrl(url) : undefined
}

/**
 * The URL a merged config requests, as axios' buildFullPath joins it (query left out: the
 * policy looks at origin and path). `instance.getUri()` would merge the config again: ~10 µs.
 */
function fullPath({ baseURL, url = '', allowAbsoluteUrls }: InternalAxiosRequestConfig): string {
  const isAbsolute = /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url)
  if (!baseURL || (isAbsolute && allowAbsoluteUrls !== false)) return url
  return url ? `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}` : baseURL
}
