import { describe, expect, it } from 'vitest'
import { createRequestPolicy, isReplayableBody, type Redirect, redirectHop } from '../src/adapter'
import { clientCredentials, createTokenManager } from '../src/index'
import { TOKEN_URL } from './helpers'

const API = 'https://api.example.test'
const SECOND = 'https://files.example.test'
const OTHER = 'https://elsewhere.example'

const policy = createRequestPolicy({
  manager: createTokenManager({
    grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' }),
  }),
  origins: [API, SECOND],
  header: 'x-access-token',
  headers: { 'x-api-key': 'key-1' },
})

/** The headers a request to the API was sent with: the policy's, the caller's and the body's. */
const sent = () =>
  new Headers({
    'x-access-token': 'Bearer at-1',
    'x-api-key': 'key-1',
    authorization: 'Basic caller',
    cookie: 'session=1',
    'proxy-authorization': 'Basic proxy',
    'content-type': 'application/json',
    'content-language': 'en',
    'x-trace': 't-1',
  })

/** A `status` redirect to `location` of a POST to the API that sent `sent()`. */
function redirect(status: number, location: string | null, more: Partial<Redirect> = {}) {
  return redirectHop({
    url: `${API}/orders`,
    method: 'POST',
    headers: sent(),
    replayableBody: true,
    hops: 0,
    status,
    location,
    policy,
    ...more,
  })
}

const names = (headers: Headers | undefined) => [...(headers?.keys() ?? [])].sort()

describe('redirectHop: which redirects are followed, and how', () => {
  it('is undefined for a response that is not a redirect, or one without a Location', () => {
    for (const status of [200, 201, 204, 300, 304, 305, 401]) {
      expect(redirect(status, `${API}/next`)).toBeUndefined()
    }
    expect(redirect(302, null)).toBeUndefined()
    expect(redirect(302, '')).toBeUndefined()
  })

  it('resolves a relative Location against the redirecting URL', () => {
    expect(redirect(307, '/moved?x=1')?.url.href).toBe(`${API}/moved?x=1`)
    expect(redirect(307, 'next')?.url.href).toBe(`${API}/next`)
  })

  it('turns anything but GET and HEAD into a GET without body on 303', () => {
    for (const method of ['POST', 'PUT', 'delete', 'PATCH']) {
      expect(redirect(303, '/result', { method })).toMatchObject({ method: 'GET', dropBody: true })
    }
    for (const method of ['GET', 'HEAD']) {
      expect(redirect(303, '/result', { method })).toMatchObject({ method, dropBody: false })
    }
  })

  it('turns only a POST into a GET on 301 and 302, as fetch does', () => {
    for (const status of [301, 302]) {
      expect(redirect(status, '/next')).toMatchObject({ method: 'GET', dropBody: true })
      expect(redirect(status, '/next', { method: 'post' })).toMatchObject({ method: 'GET' })
      expect(redirect(status, '/next', { method: 'PUT' })).toMatchObject({
        method: 'PUT',
        dropBody: false,
      })
    }
  })

  it('keeps method and body on 307 and 308', () => {
    for (const status of [307, 308]) {
      expect(redirect(status, '/next')).toMatchObject({ method: 'POST', dropBody: false })
      expect(redirect(status, '/next', { method: 'PUT' })).toMatchObject({ method: 'PUT' })
    }
  })

  it('drops the content-* headers with the body, and keeps them with it', () => {
    expect(names(redirect(303, '/result')?.headers)).toEqual([
      'authorization',
      'cookie',
      'proxy-authorization',
      'x-trace',
    ])
    expect(redirect(307, '/moved')?.headers.get('content-type')).toBe('application/json')
    expect(redirect(307, '/moved')?.headers.get('content-language')).toBe('en')
  })

  it('leaves the request headers it was given unchanged', () => {
    const headers = sent()
    redirect(303, `${OTHER}/x`, { headers })
    expect(names(headers)).toEqual(names(sent()))
  })
})

describe('redirectHop: headers by where the hop goes', () => {
  it('same origin: drops only the policy headers (the exchange puts them back as the rule allows)', () => {
    const hop = redirect(307, '/moved')
    expect(names(hop?.headers)).toEqual([
      'authorization',
      'content-language',
      'content-type',
      'cookie',
      'proxy-authorization',
      'x-trace',
    ])
  })

  it('another origin: drops the policy headers and the credentials fetch drops', () => {
    const hop = redirect(307, `${OTHER}/landing`)
    expect(names(hop?.headers)).toEqual(['content-language', 'content-type', 'x-trace'])
  })

  it('a second allowed origin: drops the credentials fetch drops too', () => {
    const hop = redirect(307, `${SECOND}/files/1`)
    expect(names(hop?.headers)).toEqual(['content-language', 'content-type', 'x-trace'])
  })

  it('another port or scheme is another origin', () => {
    expect(redirect(307, 'https://api.example.test:8443/x')?.headers.has('cookie')).toBe(false)
    expect(redirect(307, 'http://api.example.test/x')?.headers.has('cookie')).toBe(false)
  })

  it('without a policy: drops only what fetch drops', () => {
    const same = redirect(307, '/moved', { policy: undefined })
    expect(same?.headers.get('x-access-token')).toBe('Bearer at-1')
    expect(same?.headers.get('cookie')).toBe('session=1')
    const other = redirect(307, `${OTHER}/x`, { policy: undefined })
    expect(names(other?.headers)).toEqual([
      'content-language',
      'content-type',
      'x-access-token',
      'x-api-key',
      'x-trace',
    ])
  })
})

describe('redirectHop: where fetch fails the redirect', () => {
  it('follows the 20th redirect and fails on the 21st', () => {
    expect(redirect(302, '/next', { hops: 19 })).toBeDefined()
    expect(() => redirect(302, '/next', { hops: 20 })).toThrow(
      new TypeError('Too many redirects (more than 20)'),
    )
  })

  it('fails on a target that is not http(s)', () => {
    for (const location of ['ftp://files.example/x', 'data:text/plain,hi', 'javascript:alert(1)']) {
      expect(() => redirect(302, location)).toThrow(TypeError)
    }
  })

  it('fails when a redirect that keeps the body cannot send it again', () => {
    for (const status of [307, 308]) {
      expect(() => redirect(status, '/next', { replayableBody: false })).toThrow(TypeError)
    }
    expect(() => redirect(301, '/next', { method: 'PUT', replayableBody: false })).toThrow(
      TypeError,
    )
    // A redirect that drops the body does not need it again.
    expect(redirect(303, '/next', { replayableBody: false })?.dropBody).toBe(true)
    expect(redirect(302, '/next', { replayableBody: false })?.dropBody).toBe(true)
  })

  it("with onFailure: 'stop', returns undefined instead, so the redirect is kept as it is", () => {
    const stop = { onFailure: 'stop' } as const
    expect(redirect(302, '/next', { ...stop, hops: 20 })).toBeUndefined()
    expect(redirect(302, 'ftp://files.example/x', stop)).toBeUndefined()
    expect(redirect(307, '/next', { ...stop, replayableBody: false })).toBeUndefined()
    expect(redirect(307, '/next', stop)).toBeDefined()
  })

  it('throws a TypeError for a Location that is not a URL, also with onFailure: stop', () => {
    expect(() => redirect(302, 'http://[bad', { onFailure: 'stop' })).toThrow(TypeError)
  })
})

describe('isReplayableBody', () => {
  it('is true for what a client sends from memory', () => {
    const form = new FormData()
    form.set('a', '1')
    const bodies = [
      undefined,
      null,
      's',
      new Uint8Array(1),
      new ArrayBuffer(1),
      new Blob(['b']),
      form,
      new URLSearchParams('a=1'),
      { plain: 'object, serialized to JSON by ofetch' },
      [1, 2],
    ]
    expect(bodies.map(isReplayableBody)).toEqual(bodies.map(() => true))
  })

  it('is false for one-shot sources: web streams, Node streams, async iterables', async () => {
    const { Readable } = await import('node:stream')
    async function* chunks() {
      yield 'a'
    }
    const bodies = [new Blob(['b']).stream(), Readable.from(['a']), chunks()]
    expect(bodies.map(isReplayableBody)).toEqual([false, false, false])
  })
})
