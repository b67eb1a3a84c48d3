import nock from 'nock'
import { afterEach, beforeAll, beforeEach } from 'vitest'
import type { Timers } from '../src/index'

export const ISSUER = 'https://auth.example.test'
export const TOKEN_URL = `${ISSUER}/oauth/token`

/** A request the token endpoint saw: what the client *sent*. */
export interface SeenRequest {
  headers: Record<string, string | string[] | undefined>
  body: string
}

type Reply = [number, unknown, (Record<string, string> | undefined)?]

/**
 * Mocks the token endpoint with nock; `reply` answers each request in turn.
 * Returns the list of requests it received. It answers any number of requests, but one that
 * none reached fails the test (see {@link useNock}).
 */
export function tokenEndpoint(
  reply: (request: SeenRequest, index: number) => Reply | Promise<Reply> = () => [
    200,
    { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 },
  ],
  {
    path = '/oauth/token',
    origin = ISSUER,
    delay = 0,
  }: { path?: string; origin?: string; delay?: number } = {},
): SeenRequest[] {
  const seen: SeenRequest[] = []
  // Persisted, nock counts it as used once hit; .times(huge) would stay pending for ever.
  nock(origin)
    .persist()
    .post(path)
    .delay(delay)
    .reply(async function (_uri, body) {
      const request = {
        headers: this.req.headers as SeenRequest['headers'],
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }
      seen.push(request)
      const [status, payload, headers] = await reply(request, seen.length - 1)
      return [
        status,
        typeof payload === 'string' ? payload : JSON.stringify(payload),
        { 'content-type': 'application/json', ...headers },
      ]
    })
  return seen
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000) {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

/**
 * Timers the test runs by hand, for the `timers` option: nothing fires until `fire(ms)`, so
 * no test waits real time for a backoff or a timeout.
 */
export function fakeTimers() {
  const pending = new Map<number, { ms: number; callback: () => void }>()
  const waiting: Array<{ ms: number; wake: () => void }> = []
  const scheduled: number[] = []
  let lastId = 0
  const find = (ms: number) => [...pending].find(([, timer]) => timer.ms === ms)
  const timers: Timers = {
    setTimeout(callback, ms) {
      pending.set(++lastId, { ms, callback })
      scheduled.push(ms)
      for (const waiter of waiting.filter((waiter) => waiter.ms === ms)) {
        waiting.splice(waiting.indexOf(waiter), 1)
        waiter.wake()
      }
      return lastId
    },
    clearTimeout(handle) {
      pending.delete(handle as number)
    },
  }
  return {
    timers,
    /** The delay of every timer set so far, in order. */
    scheduled,
    /** Delays of the timers neither fired nor cleared. */
    pending: () => [...pending.values()].map((timer) => timer.ms),
    /** Waits until a timer of `ms` is set (the code under test may not be there yet), then fires it. */
    async fire(ms: number): Promise<void> {
      if (!find(ms)) await new Promise<void>((wake) => waiting.push({ ms, wake }))
      const [id, timer] = find(ms) ?? []
      if (id === undefined || !timer) throw new Error(`no ${ms} ms timer`)
      pending.delete(id)
      timer.callback()
    },
  }
}

/** Every test starts with no mocks and no real network, and fails when a mock went unused. */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect()
  })
  beforeEach(() => {
    nock.cleanAll()
  })
  afterEach(() => {
    // An unused mock means the test did not send what it set out to check.
    const unused = nock.pendingMocks()
    nock.cleanAll()
    if (unused.length > 0) throw new Error(`Mocked requests never sent: ${unused.join(', ')}`)
  })
}

/** An unsigned JWT with the given claims (decode-only use). */
export function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.signature`
}
