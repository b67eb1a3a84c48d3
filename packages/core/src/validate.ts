import { ConfigError } from './errors'
import type { Grant, RevocationSupport } from './grants/grants'
import type { FetchLike } from './grants/token-endpoint'
import type { RetryOptions } from './manager/retry'
import type { SharedTokenStore } from './manager/store-protocol'
import type { TokenManagerOptions } from './manager/token-manager'
import type { DPoPKey, DPoPTokenRequests, Timers, TokenEvent } from './types'

/** Construction-time checks. Each names the option and says how to fix it, never its value when secret. */

export function requireString(option: string, value: unknown, fix: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(
      option,
      value === undefined ? 'it is missing' : 'expected a non-empty string',
      fix,
    )
  }
  return value
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * An absolute http(s) URL. Plain http would send client credentials in clear text (RFC 6749
 * §2.3.1 requires TLS), so it is accepted only for loopback hosts or with `allowInsecureHttp`.
 */
export function requireHttpUrl(option: string, value: unknown, allowInsecureHttp = false): string {
  const url = requireString(
    option,
    value,
    'Pass the absolute URL, e.g. "https://auth.example.com/oauth/token".',
  )
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      option,
      `"${url}" is not an absolute URL`,
      'Pass the absolute URL including scheme and host, e.g. "https://auth.example.com/oauth/token".',
    )
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(option, `"${parsed.protocol}" is not http(s)`, 'Use an https:// URL.')
  }
  if (parsed.protocol === 'http:' && !allowInsecureHttp && !LOOPBACK.has(parsed.hostname)) {
    throw new ConfigError(
      option,
      `"${parsed.origin}" would carry client credentials over plain http`,
      'Use an https:// URL; for a token service on a trusted private network set allowInsecureHttp: true.',
    )
  }
  return parsed.href
}

export function optionalDuration(
  option: string,
  value: unknown,
  { allowZero }: { allowZero: boolean },
): number | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new ConfigError(
      option,
      `expected a number of milliseconds ${allowZero ? '≥ 0' : '> 0'}, got ${String(value)}`,
      `Pass milliseconds, e.g. ${option}: 60_000, or leave it out for the default.`,
    )
  }
  return value
}

/** RFC 8707 §2: an absolute URI without a fragment. */
export function resourceIndicators(value: unknown): string[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((resource: unknown) => {
    let ok = false
    if (typeof resource === 'string') {
      try {
        ok = new URL(resource).hash === '' && !resource.includes('#')
      } catch {
        ok = false
      }
    }
    if (!ok) {
      throw new ConfigError(
        'resource',
        `${JSON.stringify(resource)} is not an absolute URI without a fragment (RFC 8707)`,
        'Pass the API identifier as an absolute URI, e.g. "https://api.example.com/".',
      )
    }
    return resource as string
  })
}

/** An integer ≥ 1: how many entries a bounded cache keeps. */
export function requireCount(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(
      option,
      `expected an integer ≥ 1, got ${String(value)}`,
      `Pass how many tokens to keep, e.g. ${option}: 1000.`,
    )
  }
  return value
}

/** {@link TokenManagerOptions} after checks, with every default filled in. */
export interface ManagerSettings {
  readonly grant: Grant
  readonly store: SharedTokenStore | undefined
  readonly cacheSize: number
  readonly maxSessions: number
  readonly fetch: FetchLike
  readonly now: () => number
  readonly timers: Timers
  readonly random: () => number
  readonly refreshSkew: number
  readonly defaultLifetime: number | undefined
  readonly timeout: number
  readonly retry: RetryOptions | false
  /** Accepted token types, lower case. */
  readonly tokenTypes: ReadonlySet<string>
  readonly lockTtl: number
  readonly maxRetryAfter: number
  readonly deadline: number
  readonly onEvent: ((event: TokenEvent) => void) | undefined
  readonly dpop: DPoPKey | undefined
  /** What token requests do with the `dpop` key. */
  readonly dpopRequests: DPoPTokenRequests | undefined
  readonly revocation: RevocationSupport | undefined
}

/** The defaults documented on {@link TokenManagerOptions}. */
const DEFAULT_REFRESH_SKEW = 60_000
const DEFAULT_CACHE_SIZE = 100
/** Sessions an in-memory session store keeps (see `TokenManagerOptions.maxSessions`). */
const DEFAULT_MAX_SESSIONS = 10_000
const DEFAULT_TIMEOUT = 10_000
const DEFAULT_LOCK_TTL = 30_000
const DEFAULT_MAX_RETRY_AFTER = 60_000
const DEFAULT_DEADLINE = 30_000

/** Monotonic, so wall-clock jumps neither expire nor resurrect tokens. */
const monotonicClock = () => performance.timeOrigin + performance.now()

/** The globals, looked up at each call so that fake timers installed after construction apply. */
const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
}

/**
 * Checks the options of a token manager and fills in the defaults. Throws a `ConfigError`
 * naming the first bad option and how to fix it.
 */
export function validateManagerOptions(options: TokenManagerOptions): ManagerSettings {
  const grant = options?.grant
  if (!grant || typeof grant.obtain !== 'function') {
    throw new ConfigError(
      'grant',
      'it is missing',
      'Pass grant: clientCredentials({ tokenUrl, clientId, clientSecret }) or another grant.',
    )
  }
  for (const name of ['fetch', 'now', 'random', 'onEvent'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigError(
        name,
        'expected a function',
        `Pass a function as ${name}, or leave it out.`,
      )
    }
  }
  if (options.retry !== undefined && options.retry !== false) {
    const { retries } = options.retry
    if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
      throw new ConfigError(
        'retry.retries',
        `expected an integer ≥ 0, got ${String(retries)}`,
        'Pass e.g. retry: { retries: 2 }, or retry: false.',
      )
    }
    optionalDuration('retry.minDelay', options.retry.minDelay, { allowZero: true })
    optionalDuration('retry.maxDelay', options.retry.maxDelay, { allowZero: true })
  }
  if (
    options.timers !== undefined &&
    (typeof options.timers?.setTimeout !== 'function' ||
      typeof options.timers.clearTimeout !== 'function')
  ) {
    throw new ConfigError(
      'timers',
      'expected an object with setTimeout and clearTimeout functions',
      'Pass timers: { setTimeout, clearTimeout } (bound to their owner), or leave it out.',
    )
  }
  const fetchFn = options.fetch ?? globalThis.fetch
  if (typeof fetchFn !== 'function') {
    throw new ConfigError(
      'fetch',
      'there is no global fetch here',
      'Pass fetch: a function with the signature of fetch.',
    )
  }
  if (options.store !== undefined) {
    if (typeof options.store?.share !== 'function') {
      throw new ConfigError(
        'store',
        'expected a store made for sharing tokens',
        "Pass redisTokenStore({ client }), browserTokenStore() or a MemoryTokenStore; wrap a TokenStore of your own with sharedStore() from '@oauth-interceptors/core/store'.",
      )
    }
    if (grant.identity === undefined) {
      throw new ConfigError(
        'identity',
        `a ${grant.type} grant without identity cannot share tokens through a store: tokens of different users would mix`,
        'Pass identity: [username] to customGrant() (or [] when every token it gets is interchangeable).',
      )
    }
  }
  if (
    options.tokenTypes !== undefined &&
    (!Array.isArray(options.tokenTypes) ||
      !options.tokenTypes.every((type) => typeof type === 'string'))
  ) {
    throw new ConfigError(
      'tokenTypes',
      'expected a list of token type names',
      "Pass e.g. tokenTypes: ['Bearer', 'MAC'].",
    )
  }
  const dpop = plugIn(options, 'dpop', ['proof', 'observe', 'thumbprint', 'tokenRequests'])
  const dpopRequests = dpop?.tokenRequests({ shared: options.store !== undefined })
  if (!dpop && options.tokenTypes?.some((type) => type.toLowerCase() === 'dpop')) {
    throw new ConfigError(
      'tokenTypes',
      'a DPoP token is useless without a proof of its key on every request',
      "Pass dpop: dpop() from '@oauth-interceptors/core/dpop' instead: DPoP tokens are then accepted and sent with their proofs.",
    )
  }
  const tokenTypes = (options.tokenTypes ?? ['Bearer']).map((type) => type.toLowerCase())
  if (dpop) tokenTypes.push('dpop')
  return {
    grant,
    store: options.store,
    cacheSize: requireCount('cacheSize', options.cacheSize ?? DEFAULT_CACHE_SIZE),
    maxSessions: requireCount('maxSessions', options.maxSessions ?? DEFAULT_MAX_SESSIONS),
    fetch: fetchFn,
    now: options.now ?? monotonicClock,
    timers: options.timers ?? globalTimers,
    random: options.random ?? Math.random,
    refreshSkew:
      optionalDuration('refreshSkew', options.refreshSkew, { allowZero: true }) ??
      DEFAULT_REFRESH_SKEW,
    defaultLifetime: optionalDuration('defaultLifetime', options.defaultLifetime, {
      allowZero: false,
    }),
    timeout: optionalDuration('timeout', options.timeout, { allowZero: false }) ?? DEFAULT_TIMEOUT,
    lockTtl: optionalDuration('lockTtl', options.lockTtl, { allowZero: false }) ?? DEFAULT_LOCK_TTL,
    maxRetryAfter:
      optionalDuration('maxRetryAfter', options.maxRetryAfter, { allowZero: true }) ??
      DEFAULT_MAX_RETRY_AFTER,
    deadline:
      optionalDuration('deadline', options.deadline, { allowZero: false }) ?? DEFAULT_DEADLINE,
    retry: options.retry ?? {},
    tokenTypes: new Set(tokenTypes),
    onEvent: options.onEvent,
    dpop,
    dpopRequests,
    revocation: plugIn(options, 'revocation', ['attach']),
  }
}

/** A feature from its own entry, e.g. `revocation: revocation()`: an object with these `methods`. */
function plugIn<Name extends 'revocation' | 'dpop'>(
  options: TokenManagerOptions,
  name: Name,
  methods: readonly string[],
): TokenManagerOptions[Name] {
  const value = options[name] as Record<string, unknown> | null | undefined
  if (value !== undefined && methods.some((method) => typeof value?.[method] !== 'function')) {
    throw new ConfigError(
      name,
      `expected what ${name}() returns`,
      `Pass ${name}: ${name}() from '@oauth-interceptors/core/${name}', or leave it out.`,
    )
  }
  return value as TokenManagerOptions[Name]
}
