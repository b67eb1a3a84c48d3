import type {
  AuthorizationServer,
  DemoClient,
  ResourceServer,
} from '@oauth-interceptors/demo-servers'

export interface RevocationOptions {
  as: AuthorizationServer
  api: ResourceServer
  /** Each client's name (its `x-demo-client` header) and registration. */
  clients: readonly { name: string; client: DemoClient }[]
  /** `opaque`: revoke at the server (RFC 7009); `jwt`: put the token on the API's deny-list. */
  tokens: 'opaque' | 'jwt'
  /** Token lifetime in seconds. */
  ttl: number
  /** No rounds start after this `performance.now()`. */
  deadline: number
  /** The longest a request has recently taken, in ms (a retry may be under way that long). */
  latency: () => number
}

/** What the revocations did, for the report. */
export interface RevocationCounts {
  /** Rounds started before the deadline. */
  rounds: number
  /** Tokens actually revoked before the deadline (at most one per client and round). */
  revoked: number
}

/**
 * Every 2 to 4 s (at random; a quarter to a half of `--duration` in runs shorter than 8 s, so
 * that a short run still revokes tokens while it sends requests) a round starts: each client's
 * token in use is revoked, the same for every client. "In use" is the token the client's last
 * successful request carried, once the API has accepted it for 300 ms. A token the client moved
 * to because its previous one was rejected must be older: the retries of the rejected requests
 * carry it, and a request is retried once, so revoking it before they land (twice the recent
 * request latency) would fail requests that no client could save. A token the client moved to
 * ahead of expiry, with no rejection, carries no retries. A client whose token is too young is
 * revoked as soon as it is old enough, so every client gets one revocation per round, unless the
 * run ends first: nothing is revoked after the deadline, and only what was revoked is counted.
 */
export function startRevocations(options: RevocationOptions): {
  counts(): RevocationCounts
  stop(): void
} {
  const { as, api, clients, tokens, deadline } = options
  // At most just under half the lifetime: the adapters replace their token after half of it,
  // and a token must be able to reach this age while still in use.
  const settled = () => Math.min(2 * options.latency() + 100, options.ttl * 500 - 50)
  const pending = new Set<(typeof clients)[number]>()
  // Per client: the token in use and when it was first seen, and when the API last refused one.
  const seen = new Map<string, { token: string; since: number }>()
  const rejected = new Map<string, { count: number; at: number }>()
  // The longest gap between rounds: 4 s, or half the run when that is shorter.
  const gap = Math.min(2_000, (deadline - performance.now()) / 4)
  let rounds = 0
  let revoked = 0
  let next: NodeJS.Timeout | undefined

  const scheduleRound = () => {
    next = setTimeout(
      () => {
        if (performance.now() >= deadline) return
        rounds++
        for (const entry of clients) pending.add(entry)
        scheduleRound()
      },
      gap + Math.random() * gap,
    )
  }
  /** The token `name` uses now, if it may be revoked without failing a retry. */
  const revocable = (name: string, now: number): string | undefined => {
    const token = api.lastAccepted(name)
    if (!token) return undefined
    let current = seen.get(name)
    if (current?.token !== token) {
      current = { token, since: now }
      seen.set(name, current)
    }
    const age = now - current.since
    const lastRejection = rejected.get(name)?.at ?? Number.NEGATIVE_INFINITY
    // Moved to after a rejection (or rejections still arriving): retries may carry it.
    const carriesRetries = current.since - lastRejection < settled()
    return age >= (carriesRetries ? Math.max(300, settled()) : 300) ? token : undefined
  }
  const poll = setInterval(() => {
    const now = performance.now()
    for (const { name } of clients) {
      const { unauthorized } = api.stats(name)
      if (unauthorized !== (rejected.get(name)?.count ?? 0)) {
        rejected.set(name, { count: unauthorized, at: now })
      }
    }
    if (now >= deadline) {
      pending.clear()
      return
    }
    for (const entry of pending) {
      const token = revocable(entry.name, now)
      if (!token) continue
      pending.delete(entry)
      revoked++
      if (tokens === 'jwt') api.deny(token)
      else as.revoke(token, entry.client).catch((error: unknown) => console.error(error))
    }
  }, 25)
  scheduleRound()

  return {
    counts: () => ({ rounds, revoked }),
    stop() {
      clearTimeout(next)
      clearInterval(poll)
    },
  }
}
