/**
 * `url` in the form two URLs of one endpoint share: scheme and host lower-cased and the default
 * port dropped (the URL parser does both), repeated and trailing slashes of the path removed,
 * and no query or fragment. For telling whether a request goes to a token endpoint.
 * @example comparableUrl('https://AUTH.example.com:443//oauth/token/?x=1') // 'https://auth.example.com/oauth/token'
 */
export function comparableUrl(url: string | URL): string {
  try {
    const { protocol, host, pathname } = new URL(url)
    return `${protocol}//${host}${pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '')}`
  } catch {
    const text = String(url)
    const end = text.search(/[?#]/)
    return end === -1 ? text : text.slice(0, end)
  }
}
