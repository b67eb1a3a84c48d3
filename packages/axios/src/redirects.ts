import {
  ConfigError,
  isReplayableBody,
  type RequestPolicy,
  redirectHop,
} from '@oauth-interceptors/core'
import {
  AxiosHeaders,
  type AxiosRequestConfig,
  type AxiosResponse,
  getAdapter,
  type InternalAxiosRequestConfig,
} from 'axios'

// A string key, since axios before 1.19 drops symbol keys when it merges a config.
/** Redirects followed so far, on a request whose redirects this adapter follows itself. */
const HOPS = '_oauthRedirects'
type FollowedConfig = InternalAxiosRequestConfig & { [HOPS]?: number }
type BeforeRedirect = NonNullable<AxiosRequestConfig['beforeRedirect']>

/**
 * follow-redirects (axios' redirect follower in Node) strips only `authorization` and `cookie`,
 * and only for another host: a custom token header or static headers would reach the new origin.
 */
export function dropHeadersOnLeave(
  policy: RequestPolicy,
  next: BeforeRedirect | undefined,
): BeforeRedirect {
  return (options, responseDetails, requestDetails) => {
    if (typeof options.href !== 'string' || !policy.appliesTo(options.href)) {
      const headers: Record<string, unknown> = options.headers ?? {}
      for (const name of Object.keys(headers)) {
        if (policy.headerNames.includes(name.toLowerCase())) delete headers[name]
      }
    }
    next?.(options, responseDetails, requestDetails)
  }
}

/**
 * For a request with headers other than `authorization` (which every redirect follower drops
 * on another origin): outside the Node http adapter no `beforeRedirect` runs, so its redirects
 * must come back here ({@link redirected}) instead of being followed with those headers.
 * @throws ConfigError for the XMLHttpRequest adapter, whose redirects cannot be stopped
 */
export function holdRedirects(config: FollowedConfig): void {
  if (config[HOPS] !== undefined) return
  let name: string | undefined
  try {
    const adapter = getAdapter(config.adapter, config) as { adapterName?: string; name: string }
    name = adapter.adapterName ?? adapter.name
  } catch {
    return // axios fails the request with its own error
  }
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
  config[HOPS] = 0
}

/**
 * The request that follows `response` when it is a redirect of a request from
 * {@link holdRedirects} (core's `redirectHop`): without the policy's headers, which the request
 * interceptor adds again only for an allowed origin. Undefined when there is nothing to follow.
 */
export function redirected(
  policy: RequestPolicy,
  response: AxiosResponse | undefined,
  urlOf: (config: InternalAxiosRequestConfig) => string | undefined,
): AxiosRequestConfig | undefined {
  const config: FollowedConfig | undefined = response?.config
  const hops = config?.[HOPS]
  // Most responses are not held redirects: decide that before computing any URL.
  if (!response || !config || hops === undefined || response.status < 300 || response.status > 399)
    return
  const url = urlOf(config)
  if (!url) return
  if (hops >= (config.maxRedirects ?? Number.POSITIVE_INFINITY)) return
  const location: unknown = AxiosHeaders.from(response.headers as AxiosHeaders).get('location')
  const hop = redirectHop({
    url,
    method: config.method ?? 'get',
    headers: new Headers(
      Object.entries(config.headers.toJSON(true)).map(([name, value]): [string, string] => [
        name,
        String(value),
      ]),
    ),
    replayableBody: isReplayableBody(config.data),
    hops,
    status: response.status,
    location: typeof location === 'string' ? location : undefined,
    policy,
    onFailure: 'stop',
  })
  if (!hop) return
  const next: AxiosRequestConfig & { [HOPS]: number } = {
    ...config,
    // The Location is the whole URL: no base URL or params are added to it again.
    url: hop.url.href,
    allowAbsoluteUrls: true,
    params: {},
    method: hop.method,
    data: hop.dropBody ? undefined : config.data,
    headers: new AxiosHeaders(Object.fromEntries(hop.headers)),
    [HOPS]: hops + 1,
  }
  return next
}
