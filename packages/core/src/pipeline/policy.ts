import { ConfigError } from '../errors'
import {
  createTokenManager,
  type TokenManager,
  type TokenManagerOptions,
} from '../manager/token-manager'
import type { DPoPKey, Token } from '../types'
import { leadingOrigin } from '../url'
import { Exchange, type ExchangeOptions } from './exchange'
import { requestUrl } from './fetch'

/** A response as every client exposes it: a status and headers with `get`. */
export interface ResponseLike {
  /** The HTTP status code. */
  status: number
  /** The response headers; `get` takes a name in any case. */
  headers: {
    /** A header's value, e.g. `WWW-Authenticate`; `null` or `undefined` when absent. */
    get(name: string): unknown
  }
}

/** Which requests get the token, how it is written, and when a response means "refresh". */
export interface RequestPolicyOptions {
  /**
   * Origins (scheme://host:port) that may receive the token. `'*'` sends it to every origin.
   * @default the origin of the client's base URL; with none, setup fails
   */
  origins?: '*' | string | readonly string[] | undefined
  /** Header that carries the token. @default 'authorization' */
  header?: string | undefined
  /**
   * Scheme before the token: a fixed word, `'token_type'` for the token's own type, or
   * `false` for the raw token (`Authorization: <token>`).
   * @default 'Bearer'
   */
  scheme?: string | false | undefined
  /** Static headers sent along with the token, to the same origins (e.g. `x-api-key`). */
  headers?: Readonly<Record<string, string>> | undefined
  /**
   * Whether a response means the token was rejected, so refresh once and retry.
   * @default {@link isTokenRejected}: any 401; a `Bearer error="invalid_token"` challenge or
   * `Token-Expired: true` on another status; never a 403
   */
  shouldRefresh?: ((response: ResponseLike) => boolean) | undefined
}

/** What adapters accept: a manager, a manager's options, or a manager with a policy. */
export type AuthConfig =
  | TokenManager
  | (TokenManagerOptions & RequestPolicyOptions)
  | (RequestPolicyOptions & {
      /** A manager shared with other clients, whose tokens this client uses. */
      manager: TokenManager
    })

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * RFC 6750 §3 and common provider signals: the token was rejected and a new one may help.
 * A 403 (`insufficient_scope`) never is: a new token carries the same rights.
 */
export function isTokenRejected(response: ResponseLike): boolean {
  if (response.status === 401) return true
  // Only an error status can mean rejection; 403 (`insufficient_scope`) never does.
  if (response.status < 400 || response.status === 403) return false
  const challenge = response.headers.get('www-authenticate')
  return (
    (typeof challenge === 'string' && /error\s*=\s*"?invalid_token/i.test(challenge)) ||
    String(response.headers.get('token-expired')).toLowerCase() === 'true'
  )
}

/**
 * The request policy every adapter applies, so they share one meaning of origins, headers and
 * refresh-on-401. Adapters only wire it into their client's hooks.
 */
export class RequestPolicy {
  /** The token manager this policy takes tokens from and invalidates after a rejection. */
  readonly manager: TokenManager
  /** Lower-case names of every header this policy adds; strip them on a redirect to another origin. */
  readonly headerNames: readonly string[]
  /**
   * Whether an adapter must follow the redirects of requests that carry the token itself
   * instead of leaving them to the platform: fetch drops only `Authorization` on a hop to
   * another origin (a custom or static header would leak) and never adds it back (a hop to
   * another allowed origin would lose it). True with such headers or several allowed origins.
   */
  readonly followsRedirects: boolean
  /** The manager's DPoP key (its `dpop` option): DPoP tokens go with a proof of it. */
  readonly dpop: DPoPKey | undefined
  readonly #origins: ReadonlySet<string> | '*'
  /** The allowed http(s) origins, which a URL string can be checked against without parsing it. */
  readonly #httpOrigins: readonly string[]
  readonly #header: string
  readonly #scheme: string | false
  readonly #static: Readonly<Record<string, string>>
  readonly #shouldRefresh: (response: ResponseLike) => boolean

  constructor(
    config: AuthConfig,
    context: { baseUrl?: string | URL | undefined; client?: string } = {},
  ) {
    const options = withManager(config)
    this.manager = options.manager
    this.#origins = allowedOrigins(options.origins, context)
    this.#httpOrigins =
      this.#origins === '*' ? [] : [...this.#origins].filter((origin) => /^https?:/.test(origin))
    this.#header = (options.header ?? 'authorization').toLowerCase()
    if (!HEADER_NAME.test(this.#header)) {
      throw new ConfigError(
        'header',
        `"${this.#header}" is not a valid header name`,
        'Pass a name such as "authorization" or "x-access-token".',
      )
    }
    if (
      options.scheme !== undefined &&
      options.scheme !== false &&
      (typeof options.scheme !== 'string' || !HEADER_NAME.test(options.scheme))
    ) {
      throw new ConfigError(
        'scheme',
        'expected a single word, "token_type" or false',
        'Pass e.g. scheme: "Bearer", scheme: "token_type", or scheme: false for the raw token.',
      )
    }
    this.#scheme = options.scheme ?? 'Bearer'
    const statics: Record<string, string> = {}
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (!HEADER_NAME.test(name) || typeof value !== 'string') {
        throw new ConfigError(
          'headers',
          `"${name}" is not a valid header name with a string value`,
          'Pass headers: { "x-api-key": "…" }.',
        )
      }
      statics[name.toLowerCase()] = value
    }
    this.#static = statics
    this.dpop = this.manager.dpop
    this.headerNames = [this.#header, ...Object.keys(statics), ...(this.dpop ? ['dpop'] : [])]
    // Outside browsers, always: only a chain followed here tells which hop carried the token,
    // so a 401 after allowed → foreign → allowed never counts against a token it never saw.
    this.followsRedirects =
      !hidesRedirects() ||
      this.headerNames.some((name) => name !== 'authorization') ||
      this.#origins === '*' ||
      this.#origins.size > 1
    if (options.shouldRefresh !== undefined && typeof options.shouldRefresh !== 'function') {
      throw new ConfigError(
        'shouldRefresh',
        'expected a function',
        'Pass shouldRefresh: (response) => response.status === 401.',
      )
    }
    this.#shouldRefresh = options.shouldRefresh ?? isTokenRejected
  }

  /** Whether a request to `url` gets the token: an allowed origin, and not a token endpoint. */
  appliesTo(url: string | URL): boolean {
    const origin = this.#leadingOrigin(url)
    if (origin !== undefined) return !this.manager.isTokenEndpoint(url, origin)
    let parsed: URL
    try {
      parsed = typeof url === 'string' ? new URL(url) : url
    } catch {
      return false
    }
    if (this.#origins !== '*' && !this.#origins.has(parsed.origin)) return false
    return !this.manager.isTokenEndpoint(parsed, parsed.origin)
  }

  /**
   * Starts one request through the pipeline, or returns `undefined` when it gets no
   * credentials at all (`skipAuth`, another origin, a token endpoint): send it as it is then.
   * A URL string is resolved as fetch resolves it (a relative one against the page, in browsers).
   */
  exchange(url: string | URL, options: ExchangeOptions = {}): Exchange | undefined {
    if (options.skipAuth === true) return undefined
    const origin = this.#leadingOrigin(url)
    if (origin !== undefined) {
      return this.manager.isTokenEndpoint(url, origin)
        ? undefined
        : new Exchange(this, url, options)
    }
    const target = typeof url === 'string' ? requestUrl(url) : url
    if (target === undefined || !this.appliesTo(target)) return undefined
    return new Exchange(this, target, options)
  }

  /** The allowed origin a URL string plainly starts with: most requests need no URL parsing. */
  #leadingOrigin(url: string | URL): string | undefined {
    return typeof url === 'string' ? leadingOrigin(url, this.#httpOrigins) : undefined
  }

  /**
   * For a rejected `token` (see `shouldRefresh`): drops the token if still current, so the
   * retry or the next request gets a fresh one. A token already replaced is left alone (the
   * stale-401 rule), and so is one rejected during a rejection backoff (see `TokenManager.reject`).
   * @returns whether a send now would carry another token: false during a backoff
   */
  reject(token: Token): boolean {
    return this.manager.reject(token.accessToken) !== 'backoff'
  }

  /** For a response that accepted `token`: ends a rejection backoff (see `TokenManager.reject`). */
  accept(token: Token): void {
    this.manager.accept(token.accessToken)
  }

  /**
   * The headers that carry `token`: the token header in the configured scheme (`DPoP` for a
   * DPoP token), plus the static headers. A DPoP token's proof is added per send (see `Exchange`).
   */
  headersFor(token: Token): Record<string, string> {
    const scheme =
      this.#scheme === 'token_type' || (this.dpop && token.tokenType === 'DPoP')
        ? token.tokenType
        : this.#scheme
    return {
      ...this.#static,
      [this.#header]: scheme === false ? token.accessToken : `${scheme} ${token.accessToken}`,
    }
  }

  /** Whether `response` means the token was rejected (see `shouldRefresh`). */
  shouldRefresh(response: ResponseLike): boolean {
    return this.#shouldRefresh(response)
  }
}

/** Browsers (pages and workers) answer a manual redirect with an opaque response, status 0. */
function hidesRedirects(): boolean {
  const scope = globalThis as { document?: unknown; importScripts?: unknown }
  return scope.document !== undefined || typeof scope.importScripts === 'function'
}

/**
 * `config` as policy options with its manager, made once: for an adapter that builds a policy
 * per client (each with its own base URL) over one manager.
 * @throws ConfigError when `config` is missing
 */
export function withManager(config: AuthConfig): RequestPolicyOptions & {
  /** The manager of `config`, or one created from its options. */
  manager: TokenManager
} {
  if (!config || typeof config !== 'object') {
    throw new ConfigError(
      'config',
      'it is missing',
      'Pass a TokenManager, or { grant, ...options }.',
    )
  }
  // Duck-typed rather than instanceof, so a manager from another copy of core still counts.
  if ('getToken' in config) return { manager: config }
  if ('manager' in config && config.manager) return config
  return { ...config, manager: createTokenManager(config as TokenManagerOptions) }
}

/** Builds the policy an adapter applies. `baseUrl` is the client's base URL, when it has one. */
export function createRequestPolicy(
  config: AuthConfig,
  context?: { baseUrl?: string | URL | undefined; client?: string },
): RequestPolicy {
  return new RequestPolicy(config, context)
}

function allowedOrigins(
  origins: RequestPolicyOptions['origins'],
  { baseUrl, client = 'the client' }: { baseUrl?: string | URL | undefined; client?: string },
): ReadonlySet<string> | '*' {
  if (origins === '*') return '*'
  const list =
    origins === undefined
      ? baseUrl
        ? [String(baseUrl)]
        : []
      : typeof origins === 'string'
        ? [origins]
        : origins
  if (list.length === 0) {
    throw new ConfigError(
      'origins',
      `${client} was given no base URL, so no origin is known to own the token`,
      "Pass origins: ['https://api.example.com'] (where the token may be sent), or origins: '*' to send it to every origin.",
    )
  }
  // A base URL may have a path (its origin owns the token); an origin given as such may not.
  return new Set(list.map((origin) => originOf(origin, origins !== undefined)))
}

/** The origin of `value`; with `strict`, a value with more than an origin is a mistake to name. */
function originOf(value: string, strict: boolean): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(
      'origins',
      `"${value}" is not an absolute URL`,
      "Pass origins such as 'https://api.example.com'.",
    )
  }
  if (strict && (url.pathname !== '/' || url.search || url.hash || url.username || url.password)) {
    throw new ConfigError(
      'origins',
      `"${url.origin}${url.pathname}${url.search}${url.hash}" is more than an origin: the token goes to every path of its origin, ${url.origin}`,
      `Pass origins: ['${url.origin}'] (scheme://host:port, no path, query or credentials).`,
    )
  }
  return url.origin
}
