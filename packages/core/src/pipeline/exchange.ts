import type { TokenOptions } from '../manager/token-manager'
import type { Token } from '../types'
import type { RequestPolicy, ResponseLike } from './policy'
import { type RedirectHop, redirectHop } from './redirects'

/** How one request waits for its token, as its client bounds the request itself. */
export interface ExchangeOptions {
  /** The request's method, which a DPoP proof names (`htm`). @default 'GET' */
  method?: string | undefined
  /** Send the request as the bare client would: no credentials, no retry. @default false */
  skipAuth?: boolean | undefined
  /**
   * What shapes this request's token: a scope, audience or resource of its own, or with a
   * token exchange grant the subject token to exchange. Each set is cached on its own.
   * @default the grant's
   */
  tokenOptions?: TokenOptions | undefined
  /** The request's own signal: aborting it stops this request's wait (the token request goes on). */
  signal?: AbortSignal | null | undefined
  /**
   * The client's own timeout for this request in ms (axios, ky and ofetch `timeout`): it bounds
   * the wait for a token too. `0`, `false` or none: no limit beyond `signal`.
   * @default none
   */
  timeout?: number | false | undefined
  /** The error to reject with when `timeout` passes: the one the client throws for a timeout. @default a `TimeoutError` DOMException */
  timeoutError?: (() => unknown) | undefined
  /** The error to reject with when `signal` aborts: the one the client throws for an abort. @default the signal's reason */
  abortError?: ((reason: unknown) => unknown) | undefined
}

/**
 * One request on its way through the pipeline, across its redirects and its one retry: which
 * hops get credentials, the token each send carried, and whether a response means "send once
 * more with a new token". Adapters create it with `RequestPolicy.exchange()` and call it from
 * their client's hooks; the protocol itself lives here, once.
 *
 * The redirect rule: credentials (the token and the static headers) go only to allowed
 * origins, and once a redirect chain has passed through an origin that is not allowed, they are
 * not added again for the rest of that chain.
 * @example
 * const exchange = policy.exchange(url, { signal })
 * if (exchange) {
 *   let response = await send(await exchange.credentials())
 *   if (exchange.retry(response, isReplayableBody(body))) response = await send(await exchange.credentials())
 * }
 */
export class Exchange {
  /** The policy this exchange follows (origins, headers, the refresh decision). */
  readonly policy: RequestPolicy
  readonly #options: ExchangeOptions
  /** The token the latest send carried; none once a hop left the allowed origins. */
  #carried: Token | undefined
  #retried = false
  /** The request was sent again once with the DPoP nonce a server asked for. */
  #nonceRetried = false
  /** The current redirect chain has passed through an origin that is not allowed. */
  #tainted = false
  /** Redirects of the current chain sent through {@link redirect}. */
  #hops = 0
  /** The request's URL, and that of the latest send (a redirect hop). */
  readonly #url: string | URL
  #at: string | URL

  constructor(policy: RequestPolicy, url: string | URL, options: ExchangeOptions = {}) {
    this.policy = policy
    this.#url = url
    this.#at = url
    this.#options = options
  }

  /** Whether the request was already sent again once with a new token. */
  get retried(): boolean {
    return this.#retried
  }

  /** The token the latest send carried, to judge its response by (the stale-401 rule). */
  get carried(): Token | undefined {
    return this.#carried
  }

  /**
   * The headers for the next send: the request itself (no `hop`; this starts a new chain), or
   * a hop of its redirect chain, sent with `method` (a 303 makes it a GET). `undefined` when the
   * hop gets no credentials: its origin is not allowed, or the chain already passed one that is
   * not. Waits for the token, bounded by the request's signal and its client's timeout. A DPoP
   * token comes with a new proof for this very send.
   */
  async credentials(
    hop?: string | URL,
    method?: string,
  ): Promise<Record<string, string> | undefined> {
    if (hop === undefined) {
      this.#tainted = false
      this.#hops = 0
    }
    const at = hop ?? this.#url
    this.#at = at
    if (hop !== undefined && !this.keeps(hop)) return undefined
    const token = await this.#wait()
    this.#carried = token
    const headers = this.policy.headersFor(token)
    const dpop = this.policy.dpop
    if (dpop && token.tokenType === 'DPoP') {
      headers.dpop = await dpop.proof(
        method ?? this.#options.method ?? 'GET',
        at,
        token.accessToken,
      )
    }
    return headers
  }

  /**
   * For a client that sends each redirect hop as a request of its own (axios' fetch adapter):
   * the hop that follows `response` of the latest send (see {@link redirectHop}; `undefined`
   * for no redirect, where fetch would fail, or after `maxHops`), counting the hops of the
   * chain. Get its headers from `credentials(hop.url)`.
   */
  redirect(
    response: ResponseLike,
    request: { method: string; headers: HeadersInit; replayable: boolean },
    maxHops = Number.POSITIVE_INFINITY,
  ): RedirectHop | undefined {
    const location = response.headers.get('location')
    if (this.#hops >= maxHops || typeof location !== 'string') return undefined
    const hop = redirectHop({
      ...{ url: this.#at, method: request.method, headers: new Headers(request.headers) },
      ...{ replayableBody: request.replayable, hops: this.#hops, status: response.status },
      ...{ location, policy: this.policy, onFailure: 'stop' },
    })
    if (hop) this.#hops++
    return hop
  }

  /**
   * Sets the {@link credentials} for the next send on `headers`, if it gets any.
   * @returns whether it got them
   */
  async sign(headers: Headers, hop?: string | URL, method?: string): Promise<boolean> {
    const credentials = await this.credentials(hop, method)
    for (const name in credentials) headers.set(name, credentials[name] as string)
    return credentials !== undefined
  }

  /**
   * Applies the redirect rule to the plain header record of the hop to `url`, for redirect
   * followers such as follow-redirects' `beforeRedirect`: the policy's headers are removed, and
   * set again (follow-redirects drops `Authorization` on another host) if the hop keeps them.
   */
  applyTo(url: string | URL, headers: Record<string, unknown>): void {
    for (const name of Object.keys(headers)) {
      if (this.policy.headerNames.includes(name.toLowerCase())) delete headers[name]
    }
    const token = this.#carried
    if (token && this.keeps(url)) Object.assign(headers, this.policy.headersFor(token))
  }

  /**
   * Whether the redirect hop to `url` keeps the credentials the request carries (the redirect
   * rule), for redirect followers that only let us strip headers, such as follow-redirects'
   * `beforeRedirect`. A `false` marks the rest of the chain as uncredentialed.
   */
  keeps(url: string | URL): boolean {
    if (!this.#tainted && this.policy.appliesTo(url)) return true
    this.#tainted = true
    this.#carried = undefined
    return false
  }

  /**
   * After a response: whether to send the request once more, with `await credentials()`. True
   * when the response rejects the token this very send carried, the body can be sent again
   * (see `isReplayableBody`) and it was not retried yet. A rejected token is dropped even when
   * the body cannot be sent again, so the next request starts with a fresh one; a token
   * already replaced starts no refresh (the stale-401 rule).
   */
  retry(response: ResponseLike, replayable: boolean, landedAt?: string): boolean {
    if (!this.mayRetry(response)) return false
    // A redirect the platform followed to another origin: the token did not go there.
    if (landedAt && !this.policy.appliesTo(landedAt)) return false
    // The API wants its DPoP nonce in the proof: the same token again, with a new proof.
    if (this.policy.dpop && this.#carried?.tokenType === 'DPoP' && asksForNonce(response)) {
      if (replayable) this.#nonceRetried = true
      return replayable
    }
    // During a rejection backoff the same token would go again: the caller gets the 401.
    if (!this.policy.reject(this.#carried as Token) || !replayable) return false
    this.#retried = true
    return true
  }

  /**
   * Whether `response` may call for {@link retry}: it rejects the token this send carried, and
   * the request was not retried yet. A cheap check for the common response, which needs nothing
   * (a 2xx only tells the manager that tokens are accepted, which ends a rejection backoff).
   * A new token rejected again is kept: one more would be rejected too (the API's fault).
   */
  mayRetry(response: ResponseLike): boolean {
    const token = this.#carried
    if (token === undefined) return false
    const dpop = this.policy.dpop
    if (dpop) {
      // RFC 9449 §9: any response may carry the API's next nonce.
      const nonce = dpop.observe(this.#at, response.headers)
      // A nonce asked for is no rejected token: at most one send more, and no refresh.
      if (token.tokenType === 'DPoP' && asksForNonce(response)) {
        return !this.#nonceRetried && nonce !== undefined
      }
    }
    if (this.policy.shouldRefresh(response)) return !this.#retried
    // The API takes tokens (again): a rejection backoff ends.
    if (response.status >= 200 && response.status < 300) this.policy.accept(token)
    return false
  }

  /** The token, or the client's own timeout or abort error, whichever comes first; each wait gets the whole timeout, as each attempt of the client does. */
  #wait(): Promise<Token> {
    const { signal, timeout, abortError, tokenOptions } = this.#options
    const token = this.policy.manager.getToken(
      tokenOptions
        ? { ...tokenOptions, signal: signal ?? undefined }
        : signal
          ? { signal }
          : undefined,
    )
    const pending =
      abortError && signal ? token.catch((error: unknown) => this.#aborted(error)) : token
    if (!timeout) return pending
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timedOut()), timeout)
    })
    return Promise.race([pending, expired]).finally(() => clearTimeout(timer))
  }

  #aborted(error: unknown): never {
    const { signal, abortError } = this.#options
    throw signal?.aborted && error === signal.reason && abortError ? abortError(error) : error
  }

  #timedOut(): unknown {
    return (
      this.#options.timeoutError?.() ??
      new DOMException('The request timed out while waiting for an access token', 'TimeoutError')
    )
  }
}

/** A 401 whose DPoP challenge asks for a nonce (RFC 9449 §9). */
function asksForNonce(response: ResponseLike): boolean {
  if (response.status !== 401) return false
  const challenge = response.headers.get('www-authenticate')
  return typeof challenge === 'string' && /error\s*=\s*"?use_dpop_nonce/i.test(challenge)
}
