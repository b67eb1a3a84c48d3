import type { OAuthInterceptorsError } from '../errors'
import type { Timers } from '../types'

/**
 * How transient token-request failures (5xx, 408, 429, network, timeout) are retried. A
 * `Retry-After` header sets the least wait before the next attempt.
 * @example { retry: { retries: 4, minDelay: 500, maxDelay: 5_000 } }
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 */
export interface RetryOptions {
  /** Retries after the first attempt, for transient failures only. @default 2 */
  retries?: number | undefined
  /** First backoff step in ms; doubles each retry, with full jitter. @default 200 */
  minDelay?: number | undefined
  /** Longest wait in ms; a `Retry-After` beyond it ends the retries. @default 10_000 */
  maxDelay?: number | undefined
}

const DEFAULT_RETRIES = 2
const DEFAULT_MIN_DELAY = 200
const DEFAULT_MAX_DELAY = 10_000

/**
 * The wait in ms before retry number `attempt` (1-based), or `undefined` to give up: full
 * jitter over a doubling, capped step, but never less than the server's `Retry-After`.
 */
export function retryDelay(
  error: OAuthInterceptorsError,
  attempt: number,
  {
    retries = DEFAULT_RETRIES,
    minDelay = DEFAULT_MIN_DELAY,
    maxDelay = DEFAULT_MAX_DELAY,
  }: RetryOptions,
  random: () => number = Math.random,
): number | undefined {
  if (!error.transient || attempt > retries) return undefined
  const backoff = random() * Math.min(maxDelay, minDelay * 2 ** (attempt - 1))
  const asked = error.retryAfter
  // A server asking for longer than we would wait gets no retry now, and a cooldown.
  if (asked !== undefined && asked > maxDelay) return undefined
  return Math.max(backoff, asked ?? 0)
}

/** Resolves after `ms` on `timers`: the wait between two attempts. */
export function backoff(ms: number, timers: Timers): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms)
  })
}

/**
 * Keys whose server asked for a pause (`Retry-After`) that outlasted the retries: until it
 * has passed, callers get the error that asked for it instead of a new token request.
 */
export class Cooldowns {
  readonly #pauses = new Map<string, { until: number; error: OAuthInterceptorsError }>()
  readonly #now: () => number
  readonly #maxPause: number

  /** `maxPause` caps each pause in ms, so one long `Retry-After` cannot block a key for hours. */
  constructor(now: () => number, maxPause = Number.POSITIVE_INFINITY) {
    this.#now = now
    this.#maxPause = maxPause
  }

  /** The error that started a pause of `key` still running, else `undefined`. */
  active(key: string): OAuthInterceptorsError | undefined {
    const pause = this.#pauses.get(key)
    if (pause === undefined) return undefined
    if (this.#now() < pause.until) return pause.error
    this.#pauses.delete(key)
    return undefined
  }

  /** Starts a pause of `key` when `error` carries a `Retry-After`, capped at `maxPause`. */
  record(key: string, error: OAuthInterceptorsError): void {
    if (error.retryAfter !== undefined) {
      const pause = Math.min(error.retryAfter, this.#maxPause)
      // Wall-clock time for the reader; the pause itself runs on the injected clock.
      const until = new Date(Date.now() + pause).toISOString()
      error.message += ` (the server asked to wait ${Math.round(error.retryAfter / 1000)} s; no new token request until ${until})`
      this.#pauses.set(key, { until: this.#now() + pause, error })
    }
  }

  /** A token arrived for `key`: no pause. */
  clear(key: string): void {
    this.#pauses.delete(key)
  }
}
