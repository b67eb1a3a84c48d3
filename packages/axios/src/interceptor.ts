import {
  type AuthConfig,
  ConfigError,
  type ResponseLike,
  type TokenManager,
  type TokenOptions,
} from '@oauth-interceptors/core'
import {
  createRequestPolicy,
  type Exchange,
  type ExchangeOptions,
  isReplayableBody,
  joinUrl,
  type RequestPolicy,
  resolveUrl,
  withManager,
} from '@oauth-interceptors/core/adapter'
import {
  AxiosError,
  AxiosHeaders,
  type AxiosInstance,
  type AxiosResponse,
  CanceledError,
  getAdapter,
  type InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios'

declare module 'axios' {
  // Type parameters as axios declares them (their defaults are axios' own).
  interface AxiosRequestConfig<D, P> {
    /**
     * Send this request without the token and static headers, even to an allowed origin.
     * @default false
     * @example api.get('/health', { skipAuth: true })
     */
    skipAuth?: boolean | undefined
    /**
     * This request's token: its own scope, audience or resource, or with a token exchange grant
     * the token to exchange. Each set is cached on its own.
     * @default the grant's
     * @example api.get('/orders', { tokenOptions: { subjectToken: userToken } })
     */
    tokenOptions?: TokenOptions | undefined
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
      const baseUrl = resolveUrl(instance.defaults.baseURL) ?? instance.defaults.baseURL
      const policy = createRequestPolicy(shared, { baseUrl, client: 'the axios instance' })
      const request = instance.interceptors.request.use(async (config: Call) => {
        const exchange = config._oauthExchange ?? begin(policy, config)
        if (!exchange) return config
        const credentials = await exchange.credentials(config._oauthHop, config.method)
        if (credentials) config.headers.set(credentials)
        return config
      })
      // The request sent once more: a redirect hop held back from the platform, or the retry.
      const next = (response: AxiosResponse | undefined) => {
        const config: Call | undefined = response?.config
        const exchange = config?._oauthExchange
        if (!response || !config || !exchange) return
        const hop = nextHop(response)
        if (hop) return instance.request(hop)
        const rejection = response as unknown as ResponseLike // axios' headers have get()
        // XMLHttpRequest follows redirects out of sight (elsewhere the exchange saw every hop).
        const landed = (response.request as { responseURL?: string } | undefined)?.responseURL
        if (!exchange.retry(rejection, isReplayableBody(config.data), landed)) return
        return instance.request({ ...(config._oauthFirst ?? config), _oauthHop: undefined } as Call)
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
  const url = joinUrl(config.url, config.baseURL, config.allowAbsoluteUrls !== false)
  const { signal, timeout, skipAuth, tokenOptions, method } = config
  const options: ExchangeOptions = { skipAuth, tokenOptions, method }
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
  // Held redirects come back here; only the others may reach follow-redirects.
  if (config._oauthHeld) return exchange
  // follow-redirects strips only `authorization` and `cookie`, and only for another host.
  const { beforeRedirect } = config
  config.beforeRedirect = (options, ...details) => {
    exchange.applyTo(typeof options.href === 'string' ? options.href : '', options.headers ?? {})
    beforeRedirect?.(options, ...details)
  }
  return exchange
}

/** The error axios rejects with when `timeout` passes. */
function timeoutError(config: InternalAxiosRequestConfig): AxiosError {
  const message = config.timeoutErrorMessage || `timeout of ${config.timeout}ms exceeded`
  const clarify = config.transitional?.clarifyTimeoutError
  return new AxiosError(message, clarify ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED, config)
}

/**
 * A request on its way through the pipeline. String keys, since axios before 1.19 drops symbol
 * keys when it merges a config; the objects they hold pass the merge by reference.
 */
type Call = InternalAxiosRequestConfig & {
  _oauthExchange?: Exchange | undefined
  /** The request as first sent, which a retry after a redirect chain starts from again. */
  _oauthFirst?: Call | undefined
  /** The URL of a redirect hop held back from the platform (see {@link holdRedirects}). */
  _oauthHop?: string | undefined
  /** Its redirects come back here as a 3xx (see {@link holdRedirects}). */
  _oauthHeld?: boolean | undefined
}

/**
 * Outside the Node http adapter no `beforeRedirect` runs: a request whose redirects the
 * platform could leak its headers on comes back here as a 3xx ({@link nextHop}).
 * @throws ConfigError for the XMLHttpRequest adapter, whose redirects cannot be stopped
 */
function holdRedirects(config: Call): void {
  const name = adapterName(config)
  if (name === 'http') return
  if (name === 'xhr') {
    throw new ConfigError(
      'adapter',
      "axios' XMLHttpRequest adapter follows redirects out of sight, so a custom `header` or static `headers` would reach any origin",
      "Use adapter: 'fetch' (axios ≥ 1.7), or the default Authorization header without static `headers`.",
    )
  }
  const redirect: unknown = config.fetchOptions?.redirect
  // A caller who asked for the redirect response itself gets it, as without the interceptor.
  if (config.maxRedirects === 0 || (redirect !== undefined && redirect !== 'follow')) return
  // axios' fetch adapter (and a custom one that reads fetchOptions) returns the 3xx instead.
  config.fetchOptions = { ...config.fetchOptions, redirect: 'manual' }
  config._oauthHeld = true
}

/** The adapter each `adapter` setting resolves to, by name: an instance's is the same object every time. */
const adapterNames = new WeakMap<object, string>()

/** The name of the adapter that sends `config` (an adapter axios cannot load throws its own error). */
function adapterName(config: Call): string {
  const setting = config.adapter as object
  const cached = adapterNames.get(setting) // undefined for a string: looked up every time
  if (cached !== undefined) return cached
  const adapter = getAdapter(config.adapter, config) as { adapterName?: string; name: string }
  const name = adapter.adapterName ?? adapter.name
  if (typeof setting === 'object' || typeof setting === 'function') adapterNames.set(setting, name)
  return name
}

/**
 * The request that follows `response` when it is a held redirect (core's `redirectHop`):
 * without the policy's headers, which the request interceptor adds again as the exchange allows.
 */
function nextHop(response: AxiosResponse): Call | undefined {
  const config: Call = response.config
  const exchange = config._oauthExchange
  if (!exchange || !config._oauthHeld) return
  const headers = config.headers.toJSON(true) as Record<string, string>
  const { method = 'get', data } = config
  const request = { method, headers, replayable: isReplayableBody(data) }
  const hop = exchange.redirect(response as unknown as ResponseLike, request, config.maxRedirects)
  if (!hop) return
  return {
    ...config,
    // The Location is the whole URL: no base URL or params are added to it again.
    ...{ url: hop.url.href, allowAbsoluteUrls: true, params: {}, method: hop.method },
    data: hop.dropBody ? undefined : config.data,
    headers: new AxiosHeaders(Object.fromEntries(hop.headers)),
    ...{ _oauthHop: hop.url.href, _oauthFirst: config._oauthFirst ?? config },
  }
}
