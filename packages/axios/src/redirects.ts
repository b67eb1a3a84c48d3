import { ConfigError } from '@oauth-interceptors/core'
import { type Exchange, isReplayableBody, redirectHop } from '@oauth-interceptors/core/adapter'
import {
  AxiosHeaders,
  type AxiosResponse,
  getAdapter,
  type InternalAxiosRequestConfig,
} from 'axios'

/**
 * A request on its way through the pipeline. String keys, since axios before 1.19 drops symbol
 * keys when it merges a config; the objects they hold pass the merge by reference.
 */
export type Call = InternalAxiosRequestConfig & {
  _oauthExchange?: Exchange | undefined
  /** The request as first sent, which a retry after a redirect chain starts from again. */
  _oauthFirst?: Call | undefined
  /** The URL of a redirect hop held back from the platform (see {@link holdRedirects}). */
  _oauthHop?: string | undefined
  /** How many such hops were followed. */
  _oauthHops?: number | undefined
}

/**
 * Outside the Node http adapter no `beforeRedirect` runs: a request whose redirects the
 * platform could leak its headers on comes back here as a 3xx ({@link nextHop}).
 * @throws ConfigError for the XMLHttpRequest adapter, whose redirects cannot be stopped
 */
export function holdRedirects(config: Call): void {
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
  config._oauthHops = 0
}

/**
 * The request that follows `response` when it is a held redirect (core's `redirectHop`):
 * without the policy's headers, which the request interceptor adds again as the exchange allows.
 */
export function nextHop(
  response: AxiosResponse,
  urlOf: (config: InternalAxiosRequestConfig) => string | undefined,
): Call | undefined {
  const config: Call = response.config
  const hops = config._oauthHops
  // Most responses are not held redirects: decide that before computing any URL.
  if (hops === undefined || response.status < 300 || response.status > 399) return
  const url = urlOf(config)
  if (!url || hops >= (config.maxRedirects ?? Number.POSITIVE_INFINITY)) return
  const location: unknown = AxiosHeaders.from(response.headers as AxiosHeaders).get('location')
  const hop = redirectHop({
    ...{ url, method: config.method ?? 'get', replayableBody: isReplayableBody(config.data) },
    headers: new Headers(Object.entries(config.headers.toJSON(true)) as [string, string][]),
    ...{ hops, status: response.status, policy: config._oauthExchange?.policy },
    ...{ location: typeof location === 'string' ? location : undefined, onFailure: 'stop' },
  })
  if (!hop) return
  return {
    ...config,
    // The Location is the whole URL: no base URL or params are added to it again.
    ...{ url: hop.url.href, allowAbsoluteUrls: true, params: {}, method: hop.method },
    data: hop.dropBody ? undefined : config.data,
    headers: new AxiosHeaders(Object.fromEntries(hop.headers)),
    ...{ _oauthHop: hop.url.href, _oauthHops: hops + 1, _oauthFirst: config._oauthFirst ?? config },
  }
}
