/**
 * What adapters import (`@oauth-interceptors/core/adapter`): the request pipeline they connect
 * to their client's hooks. Apps import `@oauth-interceptors/core` and an adapter instead.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/adapter
 */
export type { Exchange, ExchangeOptions } from './pipeline/exchange'
export type { CredentialedRequest, FetchFunction } from './pipeline/fetch'
export { fetchWithCredentials, joinUrl, requestOf, requestUrl, resolveUrl } from './pipeline/fetch'
export type { RequestPolicy } from './pipeline/policy'
export { createRequestPolicy, withManager } from './pipeline/policy'
export type {
  ExchangeTransport,
  Outgoing,
  Redirect,
  RedirectHop,
  RedirectTransport,
} from './pipeline/redirects'
export {
  completeExchange,
  followRedirects,
  isReplayableBody,
  needsCompletion,
  redirectHop,
} from './pipeline/redirects'
