import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  basicAuthorization,
  clientCredentials,
  createTokenManager,
  customGrant,
  type FetchLike,
  type Grant,
  passwordGrant,
  refreshTokenGrant,
  type Timers,
  type TokenEvent,
} from '../src/index'
import { TOKEN_URL } from './helpers'

/**
 * Random hostile token endpoints: error bodies (JSON, form, plain text, HTML, a 200 the grant
 * cannot read, a network failure whose message quotes what it was sent) and headers that embed
 * every secret the manager knows, in random places and encodings. No secret may come out in
 * any view of the error or in any event.
 */

const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']
// Characters that each encoding changes, and one outside ASCII. No `[`/`]`: see `[redacted]`.
const SECRET_CHARS = [...ALNUM, ...'-._~+/=%&:@!$?# "\'\\<>é']
const FILLER_CHARS = [...ALNUM, ...' -_.,:;=&%+/"\'<>()!?é']
const B64TOKEN_CHARS = [...ALNUM, ...'-._~+/']

const secret = fc
  .string({ unit: fc.constantFrom(...SECRET_CHARS), minLength: 8, maxLength: 24 })
  .filter((value) => value.trim() !== '')
const b64token = fc.string({
  unit: fc.constantFrom(...B64TOKEN_CHARS),
  minLength: 8,
  maxLength: 40,
})
const filler = fc.string({ unit: fc.constantFrom(...FILLER_CHARS), maxLength: 12 })

const formEncode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1)
const html = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  )

/** The forms a server may echo a secret in; every one is looked for in the output. */
const ENCODINGS: Record<string, (value: string) => string> = {
  raw: (value) => value,
  form: formEncode,
  percent: encodeURIComponent,
  percentLower: (value) =>
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
  json: (value) => JSON.stringify(value).slice(1, -1),
  html,
  base64: (value) => Buffer.from(value).toString('base64'),
}
const ENCODING_NAMES = Object.keys(ENCODINGS)

interface Secrets {
  clientSecret: string
  password: string
  initialRefreshToken: string
  rotatedRefreshToken: string
  accessToken: string
  apiKey: string
  signingKey: string
}

const GRANTS = ['basic', 'post', 'json', 'password', 'refresh', 'custom'] as const
type GrantKind = (typeof GRANTS)[number]

function grantOf(kind: GrantKind, s: Secrets): Grant {
  const client = { tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: s.clientSecret }
  switch (kind) {
    case 'basic':
      return clientCredentials({ ...client, clientAuth: 'client_secret_basic' })
    case 'post':
      return clientCredentials({ ...client, clientAuth: 'client_secret_post' })
    case 'json':
      return clientCredentials({ ...client, clientAuth: 'client_secret_json' })
    case 'password':
      return passwordGrant({ ...client, username: 'alice', password: s.password })
    case 'refresh':
      return refreshTokenGrant({ ...client, refreshToken: s.initialRefreshToken })
    case 'custom':
      return customGrant({
        tokenUrl: TOKEN_URL,
        request: () => ({
          headers: { 'x-api-key': s.apiKey },
          form: {
            grant_type: 'password',
            username: 'alice',
            password: s.password,
            client_secret: s.clientSecret,
          },
        }),
        refresh: (refreshToken) => ({ json: { refresh_token: refreshToken } }),
        // A parse() that quotes what it could not read, as hand-written code does.
        parse: (body) => {
          if (typeof body.access_token !== 'string')
            throw new Error(`unexpected token response ${JSON.stringify(body)}`)
          return {
            accessToken: body.access_token,
            refreshToken: body.refresh_token as string | undefined,
          }
        },
        secrets: [s.signingKey],
      })
  }
}

/** The secrets a grant kind holds, as the manager sees them once it has received a token. */
function secretsOf(kind: GrantKind, s: Secrets): string[] {
  const received = [s.accessToken, s.rotatedRefreshToken]
  const client = [s.clientSecret, basicAuthorization('svc', s.clientSecret).slice(6)]
  switch (kind) {
    case 'basic':
    case 'post':
    case 'json':
      return [...client, ...received]
    case 'password':
      return [...client, s.password, ...received]
    case 'refresh':
      return [...client, s.initialRefreshToken, ...received]
    case 'custom':
      return [s.clientSecret, s.password, s.apiKey, s.signingKey, ...received]
  }
}

/** Text with secrets spliced in: each piece is filler or the n-th secret in some encoding. */
type Piece = string | { secret: number; encoding: string }
const text = fc.array(
  fc.oneof(filler, fc.record({ secret: fc.nat(), encoding: fc.constantFrom(...ENCODING_NAMES) })),
  { minLength: 1, maxLength: 6 },
)
const render = (pieces: Piece[], secrets: string[]) =>
  pieces
    .map((piece) =>
      typeof piece === 'string'
        ? piece
        : (ENCODINGS[piece.encoding] as (value: string) => string)(
            secrets[piece.secret % secrets.length] as string,
          ),
    )
    .join('')

const reply = fc.record({
  kind: fc.constantFrom('json', 'form', 'text', 'html', 'unreadable-200', 'network'),
  status: fc.constantFrom(400, 401, 403, 404, 429, 500, 502, 503),
  error: text,
  description: fc.option(text, { nil: undefined }),
  uri: fc.option(text, { nil: undefined }),
  wwwAuthenticate: text,
  retryAfter: fc.oneof(text, fc.constantFrom<Piece[]>(['0'], ['1'], ['3600'], ['soon'])),
  echo: text,
})
type Reply = typeof reply extends fc.Arbitrary<infer T> ? T : never

/** Header values carry no CR, LF or NUL; the filler and secrets have none. */
function respond(r: Reply, secrets: string[]): Response {
  const t = (pieces: Piece[]) => render(pieces, secrets)
  const headers: Record<string, string> = {
    'www-authenticate': `Bearer error="invalid_token", error_description="${t(r.wwwAuthenticate)}"`,
    'retry-after': t(r.retryAfter),
    'x-echo': t(r.echo),
  }
  const members = {
    error: t(r.error),
    ...(r.description && { error_description: t(r.description) }),
    ...(r.uri && { error_uri: t(r.uri) }),
  }
  switch (r.kind) {
    case 'json':
      return new Response(JSON.stringify(members), {
        status: r.status,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    case 'form':
      return new Response(new URLSearchParams(members).toString(), {
        status: r.status,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      })
    case 'text':
      return new Response(Object.values(members).join('\n'), {
        status: r.status,
        headers: { ...headers, 'content-type': 'text/plain' },
      })
    case 'html':
      return new Response(
        `<html><body><h1>${r.status}</h1><p>${Object.values(members).join('</p><p>')}</p></body></html>`,
        { status: r.status, headers: { ...headers, 'content-type': 'text/html' } },
      )
    default: {
      // 200 without access_token: the grant cannot read it (a custom parse() quotes it).
      const { error: _error, ...rest } = members
      return new Response(JSON.stringify({ message: members.error, ...rest }), {
        status: 200,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    }
  }
}

const TIMEOUT = 12_345
/** Backoff waits pass at once; the request timeout never fires. */
const instantTimers: Timers = {
  setTimeout: (callback, ms) => (ms === TIMEOUT ? 0 : setImmediate(callback)),
  clearTimeout: (handle) => {
    if (handle) clearImmediate(handle as NodeJS.Immediate)
  },
}

const secretsArb = fc.record({
  clientSecret: secret,
  password: secret,
  initialRefreshToken: secret,
  rotatedRefreshToken: secret,
  accessToken: b64token,
  apiKey: secret,
  signingKey: secret,
})

describe('no known secret leaves in any error or event, whatever the server answers', () => {
  it('holds for random error bodies and headers through every grant', async () => {
    let runs = 0
    let redactedInMessage = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...GRANTS), secretsArb, reply, async (kind, s, r) => {
        runs++
        const secrets = secretsOf(kind, s)
        const fetch: FetchLike = async () => {
          calls++
          if (calls === 1) {
            return new Response(
              JSON.stringify({
                access_token: s.accessToken,
                refresh_token: s.rotatedRefreshToken,
                token_type: 'Bearer',
                expires_in: 3600,
              }),
              { status: 200, headers: { 'content-type': 'application/json' } },
            )
          }
          if (r.kind === 'network') {
            const quoted = render(r.echo, secrets)
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error(`write ECONNRESET after "${quoted}"`), {
                code: 'ECONNRESET',
              }),
            })
          }
          return respond(r, secrets)
        }
        let calls = 0
        const events: TokenEvent[] = []
        const manager = createTokenManager({
          grant: grantOf(kind, s),
          fetch,
          timeout: TIMEOUT,
          timers: instantTimers,
          random: () => 0,
          retry: { retries: 1 },
          onEvent: (event) => events.push(event),
        })
        // Learn an access token and a rotated refresh token, then have the next request fail.
        const { accessToken } = await manager.getToken()
        manager.invalidate(accessToken)
        const error = await manager.getToken().then(
          () => {
            throw new Error('expected the token request to fail')
          },
          (e: unknown) => e as Error,
        )
        if (error.message.includes('[redacted]')) redactedInMessage++
        const views = [
          error.message,
          String(error),
          JSON.stringify(error),
          inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
          JSON.stringify(events),
          inspect(events, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        ]
        for (const value of secrets) {
          for (const encode of Object.values(ENCODINGS)) {
            const form = encode(value)
            for (const view of views) {
              if (view.includes(form))
                throw new Error(`a secret came out in the form ${JSON.stringify(form)}:\n${view}`)
            }
          }
        }
      }),
      { numRuns: 400 },
    )
    // Not vacuous: the servers' text did reach the messages, redacted.
    expect(runs).toBeGreaterThanOrEqual(400)
    expect(redactedInMessage).toBeGreaterThan(runs / 5)
  }, 30_000)
})
