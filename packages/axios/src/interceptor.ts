import {
  type AuthConfig,
  ConfigError,
  createRequestPolicy,
  createTokenManager,
  isReplayableBody,
  type RequestPolicyOptions,
  type Token,
  type TokenManager,
} from '@oauth-interceptors/core'
import {
  type AxiosInstance,
  type AxiosResponse,
  CanceledError,
  type InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios'
import { dropHeadersOnLeave, holdRedirects, redirected } from './redirects'

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

// A string key, since axios before 1.19 drops symbol keys when it merges a config.
const RETRIED = '_oauthRetried'
type RetriedConfig = InternalAxiosRequestConfig & { [RETRIED]?: boolean }

/**
 * OAuth 2.0 access tokens for axios: adds the token to requests for the allowed origins, and on
 * a rejected token (a 401 by default) refreshes once and retries the request once.
 * @param config a `TokenManager`, its options (`{ grant, ... }`) or `{ manager }`, plus the
 * request policy: `origins`, `header`, `scheme`, `headers`, `shouldRefresh`
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' })
 * const detach = oauthInterceptor({
 *   grant: clientCredentials({ tokenUrl, clientId, clientSecret }),
 * }).attach(api)
 */
export function oauthInterceptor(config: AuthConfig): OAuthInterceptor {
  if (!config || typeof config !== 'object') {
    throw new ConfigError('config', 'it is missing', 'Pass a TokenManager or { grant, ... }.')
  }
  // One manager for every instance; a policy per instance, as its baseURL is the default origin.
  const shared: RequestPolicyOptions & { manager: TokenManager } =
    'getToken' in config
      ? { manager: config }
      : 'manager' in config
        ? config
        : { ...config, manager: createTokenManager(config) }

  return {
    manager: shared.manager,
    attach(instance) {
      const { baseURL } = instance.defaults
      const policy = createRequestPolicy(shared, {
        baseUrl: absolute(baseURL) ?? baseURL,
        client: 'the axios instance',
      })
      // Every redirect follower drops `authorization` on another origin, but no other header.
      const ownHeaders = policy.headerNames.some((name) => name !== 'authorization')
      // The token each request carried, to report a 401 against (the stale-401 rule).
      const sent = new WeakMap<InternalAxiosRequestConfig, Token>()

      const request = instance.interceptors.request.use(async (config) => {
        if (config.skipAuth || !policy.appliesTo(absolute(fullPath(config)) ?? '')) {
          return config
        }
        if (ownHeaders) holdRedirects(config)
        const { token, headers } = await policy.authorize(signalOf(config)).catch(canceled(config))
        config.headers.set(headers)
        sent.set(config, token)
        config.beforeRedirect = dropHeadersOnLeave(policy, config.beforeRedirect)
        return config
      })

      const followed = (response: AxiosResponse | undefined) => {
        const next = redirected(policy, response, (config) => absolute(instance.getUri(config)))
        return next && instance.request(next)
      }

      const retried = (response: AxiosResponse | undefined) => {
        const config: RetriedConfig | undefined = response?.config
        const token = config && sent.get(config)
        if (!response || !config || !token || config[RETRIED]) return
        // A 401 from an origin the token was not sent to (after a redirect) says nothing about it.
        const finalUrl = (response.request as { res?: { responseUrl?: string } })?.res?.responseUrl
        if (finalUrl && !policy.appliesTo(finalUrl)) return
        const headers = response.headers as { get(name: string): unknown }
        if (!policy.shouldRefresh({ status: response.status, headers })) return
        if (!isReplayableBody(config.data)) {
          // The body is used up: surface the 401, but let the next request start with a new token.
          policy.reject(token)
          return
        }
        return policy
          .reauthorize(token, signalOf(config))
          .catch(canceled(config))
          .then((fresh) => {
            config.headers.set(fresh.headers)
            const retry: RetriedConfig = { ...config, [RETRIED]: true }
            return instance.request(retry)
          })
      }
      const response = instance.interceptors.response.use(
        (response) => followed(response) ?? retried(response) ?? response,
        (error: unknown) => {
          const response = isAxiosError(error) ? error.response : undefined
          return followed(response) ?? retried(response) ?? Promise.reject(error)
        },
      )

      return () => {
        instance.interceptors.request.eject(request)
        instance.interceptors.response.eject(response)
      }
    },
  }
}

/** `url` made absolute (relative URLs against the page in a browser), or undefined. */
function absolute(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url, globalThis.location?.href).href : undefined
  } catch {
    return undefined
  }
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

/** axios accepts signal-like objects; core needs one it can listen to. */
function signalOf(config: InternalAxiosRequestConfig): AbortSignal | undefined {
  const signal = config.signal
  return typeof signal?.addEventListener === 'function' ? (signal as AbortSignal) : undefined
}

/** An abort while waiting for a token rejects as axios' own cancellation does. */
function canceled(config: InternalAxiosRequestConfig) {
  return (error: unknown): never => {
    throw config.signal?.aborted ? new CanceledError(undefined, config) : error
  }
}
