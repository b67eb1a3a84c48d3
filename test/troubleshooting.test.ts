import { readFileSync } from 'node:fs'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  clientCredentials,
  createTokenManager,
  type TokenManagerOptions,
} from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { afterEach, describe, expect, it } from 'vitest'

// The README's "Troubleshooting" quotes these messages: each case makes the error happen and
// checks that the README still quotes what users see (times and dates left out).
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const section = readme.slice(
  readme.indexOf('## Troubleshooting'),
  readme.indexOf('\n## ', readme.indexOf('## Troubleshooting') + 1),
)
const flat = (text: string) => text.replace(/\s+/g, ' ')
const quoted = (message: string) => expect(flat(section)).toContain(flat(message))

const servers: { close(): void }[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function fails(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('did not throw')
}

async function rejects(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('did not reject')
    },
    (error: Error & Record<string, unknown>) => error,
  )
}

const tokenEndpoint = (answer: RequestListener) => listen(answer)
const grantAt = (url: string) =>
  clientCredentials({ tokenUrl: `${url}/token`, clientId: 'svc', clientSecret: 's' })
const issue: RequestListener = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(JSON.stringify({ access_token: crypto.randomUUID(), expires_in: 3600 }))
}

describe('README troubleshooting', () => {
  it('an unset secret is a ConfigError naming clientSecret', () => {
    const error = fails(() =>
      clientCredentials({
        tokenUrl: 'https://auth.example.com/oauth/token',
        clientId: 'svc',
        clientSecret: process.env.OAUTH_INTERCEPTORS_UNSET_SECRET,
      }),
    )
    expect(error.name).toBe('ConfigError')
    quoted(error.message)
  })

  it('an origin with a path, and fetch without origins, fail at setup', () => {
    const grant = clientCredentials({
      tokenUrl: 'https://auth.example.com/oauth/token',
      clientId: 'svc',
      clientSecret: 's',
    })
    quoted(fails(() => oauthFetch({ grant, origins: ['https://api.example.com/v1'] })).message)
    quoted(fails(() => oauthFetch({ grant })).message)
  })

  it('a request to another origin goes out without the token, and its 401 starts no refresh', async () => {
    const auth = await tokenEndpoint(issue)
    let authorization: string | undefined = 'unset'
    const api = await listen((request, response) => {
      authorization = request.headers.authorization
      response.writeHead(401).end()
    })
    const tokens = createTokenManager({ grant: grantAt(auth) })
    const authedFetch = oauthFetch({ manager: tokens, origins: ['http://localhost:1'] })

    expect((await authedFetch(`${api}/orders`)).status).toBe(401)
    expect(authorization).toBeUndefined()
    expect(tokens.stats().requested).toBe(0)
  })

  it('a hanging token endpoint: a timeout per attempt, and the deadline over all', async () => {
    const auth = await tokenEndpoint(() => {})
    const timeout = await rejects(
      createTokenManager({
        grant: grantAt(auth),
        timeout: 300,
        retry: { retries: 1, minDelay: 50, maxDelay: 100 },
      }).getToken(),
    )
    expect(timeout.code).toBe('timeout')
    quoted(timeout.message.replace(/over [\d.]+ s\)$/, ''))

    const deadline = await rejects(
      // The longest jittered waits (random 1: 100 ms, then 200 ms), so the third attempt never starts.
      createTokenManager({
        grant: grantAt(auth),
        timeout: 400,
        deadline: 1000,
        random: () => 1,
      }).getToken(),
    )
    expect(deadline.code).toBe('timeout')
    expect(deadline.cause).toMatchObject({ code: 'timeout' })
    quoted(deadline.message.replace(/over [\d.]+ s$/, ''))
  })

  it('Retry-After pauses token requests, capped by maxRetryAfter', async () => {
    let requests = 0
    const auth = await tokenEndpoint((_request, response) => {
      requests++
      response.writeHead(503, { 'retry-after': '3600' }).end()
    })
    const options: TokenManagerOptions = { grant: grantAt(auth), retry: false }
    const tokens = createTokenManager(options)
    const started = Date.now()
    const first = await rejects(tokens.getToken())
    const second = await rejects(tokens.getToken())

    expect(first.code).toBe('http_error')
    expect(second.message).toBe(first.message)
    expect(requests).toBe(1)
    quoted(first.message.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, ''))
    // The default maxRetryAfter: one minute, not the hour asked for.
    const until = Date.parse(first.message.match(/until (\S+)\)$/)?.[1] ?? '')
    expect(until - started).toBeGreaterThanOrEqual(59_000)
    expect(until - started).toBeLessThan(61_000)
  })

  it('an API that rejects every token: one refresh and retry, then its 401 without a new token (backoff)', async () => {
    const auth = await tokenEndpoint(issue)
    let sent = 0
    const api = await listen((_request, response) => {
      sent++
      response.writeHead(401).end()
    })
    const tokens = createTokenManager({ grant: grantAt(auth) })
    const authedFetch = oauthFetch(tokens, { baseUrl: api })

    for (let i = 0; i < 3; i++) expect((await authedFetch(`${api}/orders`)).status).toBe(401)
    // The first request is sent twice (a new token on the retry); the rest once, in the backoff.
    expect(sent).toBe(4)
    expect(tokens.stats()).toMatchObject({
      requested: 2,
      rejectionBackoffs: 1,
      reasons: { cold: 1, rejected: 1 },
    })
  })
})
