/**
 * `url` in the form two URLs of one endpoint share: scheme and host lower-cased and the default
 * port dropped (the URL parser does both), repeated and trailing slashes of the path removed,
 * and no query or fragment. For telling whether a request goes to a token endpoint.
 * @example comparableUrl('https://AUTH.example.com:443//oauth/token/?x=1') // 'https://auth.example.com/oauth/token'
 */
export function comparableUrl(url: string | URL): string {
  const parsed = typeof url === 'string' ? parse(url) : url
  if (parsed) {
    const path = parsed.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '')
    return `${parsed.protocol}//${parsed.host}${path}`
  }
  const text = String(url)
  const end = text.search(/[?#]/)
  return end === -1 ? text : text.slice(0, end)
}

/**
 * A set of endpoint URLs compared by {@link comparableUrl}. `has()` runs for every request, so
 * a URL on an origin none of them is on (the common case) costs one set lookup, not a
 * normalisation.
 */
export class EndpointSet {
  readonly #urls = new Set<string>()
  readonly #origins = new Set<string>()
  /** Some endpoint is no absolute URL, so it has no origin to tell it by. */
  #unparsed = false

  add(url: string | URL): void {
    const parsed = typeof url === 'string' ? parse(url) : url
    if (parsed) this.#origins.add(parsed.origin)
    else this.#unparsed = true
    this.#urls.add(comparableUrl(parsed ?? url))
  }

  /**
   * Whether `url` is one of the endpoints. `origin` is its origin when the caller knows it
   * already (as `URL#origin` writes it): a URL on an origin none of them is on is then told
   * without parsing it.
   */
  has(url: string | URL, origin?: string): boolean {
    if (origin !== undefined && !this.#unparsed && !this.#origins.has(origin)) return false
    const parsed = typeof url === 'string' ? parse(url) : url
    if (parsed && !this.#unparsed && !this.#origins.has(parsed.origin)) return false
    return this.#urls.has(comparableUrl(parsed ?? url))
  }
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/**
 * The origin `url` starts with, when it is one of `origins` followed by the end of the
 * authority: what `new URL(url).origin` returns, told from the string alone. Each of `origins`
 * must be an http(s) origin as `URL#origin` writes it (canonical): such an origin followed by
 * `/`, `?`, `#` or the end parses to itself, whatever follows. `undefined` for anything else
 * (another or a non-canonical origin, a relative URL), which the caller parses.
 * @example leadingOrigin('https://api.example.com/orders', ['https://api.example.com']) // 'https://api.example.com'
 */
export function leadingOrigin(url: string, origins: readonly string[]): string | undefined {
  for (const origin of origins) {
    if (!url.startsWith(origin)) continue
    if (url.length === origin.length) return origin
    const next = url.charCodeAt(origin.length)
    if (next === 0x2f || next === 0x3f || next === 0x23) return origin // / ? #
  }
  return undefined
}
