import { ConfigError } from './errors'

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
