import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRequestPolicy, type RequestPolicy } from '../src/adapter'
import { clientCredentials, createTokenManager } from '../src/index'
import { TOKEN_URL } from './helpers'

const API = 'https://api.example.test'
const SECOND = 'https://files.example.test'
const OTHER = 'https://elsewhere.example'

/** A policy over a token endpoint that answers at-1, at-2, … and counts what it was asked. */
function world(options: { hang?: boolean; origins?: string[] } = {}) {
  let issued = 0
  const fetch = vi.fn(
    (): Promise<Response> =>
      options.hang
        ? new Promise(() => {})
        : Promise.resolve(
            Response.json({ access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 60 }),
          ),
  )
  const manager = createTokenManager({
    grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'svc', clientSecret: 's3cret' }),
    fetch,
  })
  const policy = createRequestPolicy({
    manager,
    origins: options.origins ?? [API, SECOND],
    headers: { 'x-api-key': 'k-1' },
  })
  return { policy, tokenRequests: () => fetch.mock.calls.length }
}

const rejected = { status: 401, headers: new Headers() }
const begin = (policy: RequestPolicy, url = `${API}/orders`) => {
  const exchange = policy.exchange(url)
  if (!exchange) throw new Error('expected an exchange')
  return exchange
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Exchange: which requests and hops get credentials', () => {
  it('starts no exchange for skipAuth, another origin or the token endpoint', () => {
    const { policy } = world()
    expect(policy.exchange(`${API}/x`, { skipAuth: true })).toBeUndefined()
    expect(policy.exchange(`${OTHER}/x`)).toBeUndefined()
    expect(createRequestPolicy({ manager: policy.manager, origins: '*' }).exchange(TOKEN_URL)).toBe(
      undefined,
    )
  })

  it('gives the token and the static headers to the request and to allowed hops', async () => {
    const { policy } = world()
    const exchange = begin(policy)
    const expected = { authorization: 'Bearer at-1', 'x-api-key': 'k-1' }
    await expect(exchange.credentials()).resolves.toEqual(expected)
    await expect(exchange.credentials(`${API}/moved`)).resolves.toEqual(expected)
    await expect(exchange.credentials(`${SECOND}/files/1`)).resolves.toEqual(expected)
  })

  it('adds nothing again for the rest of a chain once it passed an origin that is not allowed', async () => {
    const { policy } = world()
    const exchange = begin(policy)
    await exchange.credentials()
    await expect(exchange.credentials(`${OTHER}/bounce`)).resolves.toBeUndefined()
    await expect(exchange.credentials(`${API}/back`)).resolves.toBeUndefined()
    expect(exchange.keeps(`${SECOND}/files`)).toBe(false)
    // The request sent once more starts a new chain.
    await expect(exchange.credentials()).resolves.toMatchObject({ authorization: 'Bearer at-1' })
  })

  it('keeps() applies the same rule for followers that can only strip headers', () => {
    const { policy } = world()
    const exchange = begin(policy)
    expect(exchange.keeps(`${API}/a`)).toBe(true)
    expect(exchange.keeps(`${OTHER}/b`)).toBe(false)
    expect(exchange.keeps(`${API}/c`)).toBe(false)
  })
})

describe('Exchange: the decision after a response', () => {
  it('retries once with a new token when the token it carried is rejected, then surfaces the 401', async () => {
    const { policy, tokenRequests } = world()
    const exchange = begin(policy)
    await exchange.credentials()
    expect(exchange.retry(rejected, true)).toBe(true)
    await expect(exchange.credentials()).resolves.toMatchObject({ authorization: 'Bearer at-2' })
    expect(exchange.retry(rejected, true)).toBe(false)
    expect(exchange.retried).toBe(true)
    // The second token is kept: another one would be rejected as well.
    await expect(begin(policy).credentials()).resolves.toMatchObject({
      authorization: 'Bearer at-2',
    })
    expect(tokenRequests()).toBe(2)
  })

  it('judges each response by the token that request carried (the stale-401 rule)', async () => {
    const { policy, tokenRequests } = world()
    const [slow, fast] = [begin(policy), begin(policy)]
    await Promise.all([slow.credentials(), fast.credentials()])
    expect(fast.retry(rejected, true)).toBe(true)
    await fast.credentials()
    // The slow request's 401 is for at-1, already replaced: it retries with at-2, no refresh.
    expect(slow.retry(rejected, true)).toBe(true)
    await expect(slow.credentials()).resolves.toMatchObject({ authorization: 'Bearer at-2' })
    expect(tokenRequests()).toBe(2)
  })

  it('does not retry a body that cannot be sent again, but drops the rejected token', async () => {
    const { policy, tokenRequests } = world()
    const exchange = begin(policy)
    await exchange.credentials()
    expect(exchange.retry(rejected, false)).toBe(false)
    await expect(begin(policy).credentials()).resolves.toMatchObject({
      authorization: 'Bearer at-2',
    })
    expect(tokenRequests()).toBe(2)
  })

  it('passes through a 403, a 200, and a 401 from where the token did not go', async () => {
    const { policy, tokenRequests } = world()
    const exchange = begin(policy)
    await exchange.credentials()
    expect(exchange.retry({ status: 403, headers: new Headers() }, true)).toBe(false)
    expect(exchange.retry({ status: 200, headers: new Headers() }, true)).toBe(false)
    // A redirect the platform followed to another origin, where the token did not go.
    expect(exchange.retry(rejected, true, `${OTHER}/landing`)).toBe(false)
    const left = begin(policy)
    await left.credentials()
    left.keeps(`${OTHER}/x`)
    expect(left.retry(rejected, true)).toBe(false)
    expect(tokenRequests()).toBe(1)
  })
})

describe("Exchange: the request's own timeout and signal bound the wait for a token", () => {
  it("rejects with the client's timeout error while the token request goes on for others", async () => {
    vi.useFakeTimers()
    const { policy, tokenRequests } = world({ hang: true })
    const timeoutError = new Error('timeout of 300ms exceeded')
    const exchange = policy.exchange(`${API}/a`, { timeout: 300, timeoutError: () => timeoutError })
    const outcome = exchange?.credentials().catch((error: unknown) => error)
    const other = policy.manager.getToken().then(() => 'token')
    await vi.advanceTimersByTimeAsync(299)
    expect(await Promise.race([outcome, 'pending'])).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(await outcome).toBe(timeoutError)
    expect(await Promise.race([other, 'pending'])).toBe('pending')
    expect(tokenRequests()).toBe(1)
  })

  it("rejects with the client's abort error when its signal aborts", async () => {
    const { policy } = world({ hang: true })
    const controller = new AbortController()
    const canceled = new Error('canceled')
    const exchange = policy.exchange(`${API}/a`, {
      signal: controller.signal,
      abortError: () => canceled,
    })
    const waiting = exchange?.credentials()
    controller.abort()
    await expect(waiting).rejects.toBe(canceled)
  })

  it("defaults to the signal's reason and a TimeoutError DOMException", async () => {
    vi.useFakeTimers()
    const { policy } = world({ hang: true })
    const controller = new AbortController()
    const aborted = policy.exchange(`${API}/a`, { signal: controller.signal })?.credentials()
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    const timed = policy.exchange(`${API}/b`, { timeout: 50 })?.credentials()
    const outcome = timed?.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(50)
    expect(await outcome).toMatchObject({ name: 'TimeoutError' })
  })
})
