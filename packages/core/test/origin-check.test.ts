import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRequestPolicy } from '../src/adapter'
import { clientCredentials, createTokenManager } from '../src/index'
import { leadingOrigin } from '../src/url'
import { TOKEN_URL } from './helpers'

const API = 'https://api.example.test'
const LOCAL = 'http://127.0.0.1:8080'
const AUTH = new URL(TOKEN_URL).origin

const manager = createTokenManager({
  grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' }),
  fetch: () => Promise.reject(new Error('no token requests here')),
})
// The token endpoint's origin is allowed too: requests to it must still go without the token.
const allowed = new Set([API, LOCAL, AUTH])
const policy = createRequestPolicy({ manager, origins: [...allowed] })

/** What the origin check decides, with every URL parsed: the rule the fast path must keep. */
function parsedDecision(url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  return allowed.has(parsed.origin) && !manager.isTokenEndpoint(parsed)
}

/** URLs that start like an allowed origin and then go elsewhere, or nowhere. */
const lookalikes = fc
  .tuple(
    fc.constantFrom(API, LOCAL, AUTH, 'HTTPS://API.example.test', 'https://api.example.test:443'),
    fc.array(
      fc.constantFrom(
        ...['/', '?', '#', '@', ':', '\\', '.', '%2e', '\t', '\n', ' ', 'evil.example', '443'],
        ...['/oauth/token', '//', 'x', '@evil.example/', '.evil.example/', ':8443/'],
      ),
      { maxLength: 5 },
    ),
  )
  .map(([origin, parts]) => origin + parts.join(''))

describe('the origin check: a URL string is told from its start where that is certain', () => {
  it('decides every URL as parsing it would', () => {
    fc.assert(
      fc.property(fc.oneof(lookalikes, fc.webUrl(), fc.string()), (url) => {
        expect(policy.appliesTo(url)).toBe(parsedDecision(url))
        const origin = leadingOrigin(url, [...allowed])
        if (origin !== undefined) expect(new URL(url).origin).toBe(origin)
      }),
      { numRuns: 3_000 },
    )
  })

  it('sends no token to another host that starts with an allowed origin', () => {
    for (const url of [
      `${API}.evil.example/`,
      `${API}@evil.example/`,
      `${API}:8443/orders`,
      'https://evil.example/https://api.example.test/',
    ]) {
      expect(policy.appliesTo(url), url).toBe(false)
      expect(policy.exchange(url), url).toBeUndefined()
    }
  })

  it('sends no token to the token endpoint on an allowed origin, however it is written', () => {
    for (const url of [TOKEN_URL, `${TOKEN_URL}/`, `${TOKEN_URL}?a=1`, `${TOKEN_URL}#x`]) {
      expect(policy.exchange(url), url).toBeUndefined()
    }
    expect(policy.exchange(`${AUTH}/userinfo`)).toBeDefined()
  })

  it('still parses what it cannot tell from the start: another spelling of an allowed origin', () => {
    expect(policy.exchange('HTTPS://API.EXAMPLE.TEST/orders')).toBeDefined()
    expect(policy.exchange('https://api.example.test:443/orders')).toBeDefined()
    // The parser reads `\` as `/`: fetch sends this to api.example.test, and so does the check.
    expect(policy.exchange(`${API}\\@evil.example/`)).toBeDefined()
    // A relative URL has no origin outside a page.
    expect(policy.exchange('/orders')).toBeUndefined()
  })
})
