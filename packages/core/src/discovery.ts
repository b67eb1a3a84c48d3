/**
 * Authorization server discovery (RFC 8414, OpenID Connect Discovery 1.0), imported from
 * `@oauth-interceptors/core/discovery`: pass `discover(issuer)` as a grant's `issuer` in place
 * of `tokenUrl`. The metadata is fetched on the first token request, once per manager, and
 * gives the token endpoint, the revocation endpoint and the client authentication methods the
 * server supports. The code lives here only, so an app that does not import this entry does
 * not ship it.
 *
 * @example
 * import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
 * import { discover } from '@oauth-interceptors/core/discovery'
 *
 * const tokens = createTokenManager({
 *   grant: clientCredentials({ issuer: discover('https://auth.example.com'),
 *     clientId: 'orders-service', clientSecret: process.env.CLIENT_SECRET, clientAuth: 'auto' }),
 * })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/discovery
 */
import { ConfigError, TokenEndpointError } from './errors'
import type { DiscoveryContext, Issuer, IssuerMetadata } from './grants/grants'
import { requireHttpUrl } from './validate'

export type { DiscoveryContext, Issuer, IssuerMetadata } from './grants/grants'

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /**
   * Accept a plain `http://` issuer and endpoints that are not on loopback.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined
}

/** The mutual TLS client authentication methods (RFC 8705 §2). */
const TLS_METHODS = new Set(['tls_client_auth', 'self_signed_tls_client_auth'])

/** The first wait after a failed metadata request, in ms; it doubles with each failure. */
const FIRST_BACKOFF = 1_000
/** The longest wait between two metadata requests after failures, in ms. */
const MAX_BACKOFF = 60_000
const DEFAULT_TIMEOUT = 10_000

interface State {
  promise?: Promise<IssuerMetadata> | undefined
  failures: number
  retryAt: number
  error?: unknown
}

const defaultContext: DiscoveryContext = {
  fetch: (input, init) => fetch(input, init),
  now: () => performance.timeOrigin + performance.now(),
  timers: {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
  },
  timeout: DEFAULT_TIMEOUT,
}

/**
 * An issuer whose metadata is discovered. The metadata is read from
 * `/.well-known/oauth-authorization-server` (RFC 8414 §3.1: inserted before the issuer's
 * path, so issuer `https://auth.example.com/tenant` is read at
 * `https://auth.example.com/.well-known/oauth-authorization-server/tenant`) and, when that
 * answers anything but 200, from `/.well-known/openid-configuration` appended to the issuer
 * (OpenID Connect Discovery 1.0 §4). It is fetched once per token manager (concurrent first
 * requests share one fetch) and kept for the manager's life; after a failure, the error is
 * rethrown without a request until a backoff of 1 s, doubling up to 60 s, has passed.
 *
 * The metadata's `issuer` must equal `issuer` exactly (RFC 8414 §3.3), and its
 * `token_endpoint` (required) and `revocation_endpoint` must be https URLs unless on loopback
 * or `allowInsecureHttp` is set. A client with a mutual TLS method (`@oauth-interceptors/core/mtls`)
 * sends its requests to the `token_endpoint` and `revocation_endpoint` of the metadata's
 * `mtls_endpoint_aliases` where it lists them (RFC 8705 §5), checked the same way.
 * @param issuer The authorization server's issuer identifier, exactly as its metadata names it.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-5
 */
export function discover(issuer: string, options: DiscoverOptions = {}): Issuer {
  const allowInsecureHttp = options.allowInsecureHttp ?? false
  const parsed = new URL(requireHttpUrl('issuer', issuer, allowInsecureHttp))
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new ConfigError(
      'issuer',
      'an issuer identifier has no query or fragment (RFC 8414 §2)',
      'Pass the issuer exactly as the server names it, e.g. "https://auth.example.com".',
    )
  }
  const states = new WeakMap<DiscoveryContext, State>()
  return {
    issuer,
    async resolve(context, { revocation, method, hasSecret = false }) {
      const metadata = await this.metadata(context)
      // RFC 8705 §5: a client using mutual TLS sends its requests to the aliases, where listed.
      const aliases = method && TLS_METHODS.has(method) ? metadata.mtlsEndpointAliases : undefined
      const url = revocation
        ? (aliases?.revocationEndpoint ?? metadata.revocationEndpoint)
        : (aliases?.tokenEndpoint ?? metadata.tokenEndpoint)
      if (url === undefined) {
        throw new ConfigError(
          'revocationUrl',
          `the metadata of ${metadata.origin} has no revocation_endpoint, so tokens cannot be revoked there`,
          "Pass the server's revocation endpoint to the grant, e.g. revocationUrl: 'https://auth.example.com/oauth/revoke'.",
        )
      }
      return {
        url,
        method: method === undefined ? 'none' : clientAuth(metadata, method, hasSecret),
      }
    },
    metadata(context = defaultContext) {
      let state = states.get(context)
      if (state === undefined) {
        state = { failures: 0, retryAt: 0 }
        states.set(context, state)
      }
      if (state.promise) return state.promise
      if (state.failures > 0 && context.now() < state.retryAt) return Promise.reject(state.error)
      const current = state
      current.promise = load(issuer, context, allowInsecureHttp).catch((error: unknown) => {
        current.promise = undefined
        current.failures++
        current.error = error
        current.retryAt =
          context.now() + Math.min(FIRST_BACKOFF * 2 ** (current.failures - 1), MAX_BACKOFF)
        throw error
      })
      return current.promise
    },
  }
}

/**
 * The method to use with the server of `metadata`: `configured` if it lists it, or with `auto`
 * the first of `client_secret_basic` and `client_secret_post` (with a secret) or `none`
 * (without) that it lists. RFC 8414 §2: a server that lists none supports `client_secret_basic`.
 */
function clientAuth(metadata: IssuerMetadata, configured: string, hasSecret: boolean): string {
  const listed = metadata.authMethods
  const supported = listed ?? ['client_secret_basic']
  const list = supported.length ? supported.join(', ') : 'none listed'
  if (configured === 'auto') {
    const fits = hasSecret ? ['client_secret_basic', 'client_secret_post'] : ['none']
    const chosen = fits.find((method) => supported.includes(method))
    if (chosen) return chosen
    // "auto" never picks mTLS: it needs a certificate the manager cannot see.
    const tls = supported.find((method) => TLS_METHODS.has(method))
    throw new ConfigError(
      'clientAuth',
      `with "auto", none of the methods ${metadata.origin} supports (${list}) fits the credentials given (${hasSecret ? 'a client secret' : 'no client secret'})`,
      tls
        ? `Set clientAuth to a method the server lists, e.g. ${tls === 'tls_client_auth' ? 'tlsClientAuth' : 'selfSignedTlsClientAuth'}({ dispatcher }) from "@oauth-interceptors/core/mtls" for ${tls}.`
        : 'Set clientAuth to a method the server lists, e.g. privateKeyJwt({ key }) from "@oauth-interceptors/core/jwt" for private_key_jwt.',
    )
  }
  // client_secret_json is no registered method, so no server lists it.
  if (listed && configured !== 'client_secret_json' && !listed.includes(configured)) {
    throw new ConfigError(
      'clientAuth',
      `"${configured}" is not among the methods ${metadata.origin} supports (${list})`,
      'Set clientAuth to one of them, or "auto" to choose from them.',
    )
  }
  return configured
}

/** The two metadata addresses, in the order they are tried. */
export function wellKnownUrls(issuer: string): [string, string] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ]
}

async function load(
  issuer: string,
  context: DiscoveryContext,
  allowInsecureHttp: boolean,
): Promise<IssuerMetadata> {
  const origin = new URL(issuer).origin
  const answers: string[] = []
  let lastStatus = 0
  for (const url of wellKnownUrls(issuer)) {
    const { status, text } = await get(url, origin, context)
    if (status === 200) return validate(parseJson(text, url, origin), issuer, allowInsecureHttp)
    lastStatus = status
    answers.push(`HTTP ${status} at ${new URL(url).pathname}`)
  }
  throw new TokenEndpointError(
    `Discovery of ${origin} failed: no metadata (${answers.join(', ')}). Check that issuer is the authorization server's issuer identifier, or pass tokenUrl instead`,
    'http_error',
    { status: lastStatus },
  )
}

async function get(
  url: string,
  origin: string,
  { fetch: fetchFn, timers, timeout }: DiscoveryContext,
): Promise<{ status: number; text: string }> {
  const controller = new AbortController()
  const timer = timers.setTimeout(() => controller.abort(), timeout)
  try {
    const response = await fetchFn(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: controller.signal,
    })
    return { status: response.status, text: response.status === 200 ? await response.text() : '' }
  } catch (cause) {
    if (controller.signal.aborted) {
      throw new TokenEndpointError(
        `Discovery of ${origin} timed out after ${timeout} ms. Check that the issuer is reachable, or pass tokenUrl instead`,
        'timeout',
      )
    }
    throw new TokenEndpointError(
      `Discovery of ${origin} failed on the network. Check that the issuer is reachable, or pass tokenUrl instead`,
      'network_error',
      { cause },
    )
  } finally {
    timers.clearTimeout(timer)
  }
}

function parseJson(text: string, url: string, origin: string): Record<string, unknown> {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TokenEndpointError(
      `Discovery of ${origin} failed: ${new URL(url).pathname} did not answer a JSON object. Check that issuer is the authorization server's issuer identifier, or pass tokenUrl instead`,
      'invalid_response',
      { status: 200 },
    )
  }
  return body as Record<string, unknown>
}

function validate(
  body: Record<string, unknown>,
  issuer: string,
  allowInsecureHttp: boolean,
): IssuerMetadata {
  const origin = new URL(issuer).origin
  if (body.issuer !== issuer) {
    const named = typeof body.issuer === 'string' ? `"${body.issuer}"` : 'no issuer'
    throw new ConfigError(
      'issuer',
      `the metadata of ${origin} names ${named}, not "${issuer}" (RFC 8414 §3.3 requires them to be identical)`,
      "Set issuer to exactly the metadata's issuer value, trailing slash included.",
    )
  }
  if (typeof body.token_endpoint !== 'string' || body.token_endpoint === '') {
    throw new ConfigError(
      'issuer',
      `the metadata of ${origin} has no token_endpoint`,
      "Pass the token endpoint's URL as tokenUrl instead of issuer.",
    )
  }
  const tokenEndpoint = endpoint('token_endpoint', body.token_endpoint, origin, allowInsecureHttp)
  const revocationEndpoint =
    typeof body.revocation_endpoint === 'string'
      ? endpoint('revocation_endpoint', body.revocation_endpoint, origin, allowInsecureHttp)
      : undefined
  const methods = body.token_endpoint_auth_methods_supported
  return {
    issuer,
    origin,
    tokenEndpoint,
    revocationEndpoint,
    authMethods:
      Array.isArray(methods) && methods.every((m) => typeof m === 'string') ? methods : undefined,
    mtlsEndpointAliases: mtlsAliases(body.mtls_endpoint_aliases, origin, allowInsecureHttp),
  }
}

/**
 * The token and revocation endpoints of `mtls_endpoint_aliases` (RFC 8705 §5), checked like
 * the plain ones; the aliases of endpoints this library does not call are left out.
 */
function mtlsAliases(
  value: unknown,
  origin: string,
  allowInsecureHttp: boolean,
): IssuerMetadata['mtlsEndpointAliases'] {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      'issuer',
      `the metadata of ${origin} has an mtls_endpoint_aliases that is not a JSON object (RFC 8705 §5)`,
      "Fix the server's metadata, or pass the mTLS token endpoint as tokenUrl instead of issuer.",
    )
  }
  const aliases = value as Record<string, unknown>
  const alias = (member: string) => {
    const url = aliases[member]
    return typeof url === 'string'
      ? endpoint(`mtls_endpoint_aliases.${member}`, url, origin, allowInsecureHttp)
      : undefined
  }
  return {
    tokenEndpoint: alias('token_endpoint'),
    revocationEndpoint: alias('revocation_endpoint'),
  }
}

function endpoint(
  member: string,
  value: string,
  origin: string,
  allowInsecureHttp: boolean,
): string {
  try {
    return requireHttpUrl(member, value, allowInsecureHttp)
  } catch (error) {
    throw new ConfigError(
      'issuer',
      `the metadata of ${origin} has an unusable ${member}: ${(error as Error).message}`,
      "Fix the server's metadata, or pass the endpoint as tokenUrl / revocationUrl instead of issuer (allowInsecureHttp in discover(issuer, { allowInsecureHttp: true }) accepts plain http).",
    )
  }
}
