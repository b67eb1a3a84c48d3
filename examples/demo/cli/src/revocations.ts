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

/**
 * Every 2 to 4 s (at random) a round starts: each client's token in use is revoked, the same
 * for every client. "In use" is the token the client's last successful request carried, once
 * the API has been accepting it for twice the recent request latency: retries may still be on
 * their way with that token, and a request is retried once, so revoking the token before they
 * land would fail requests that no client could save. A client whose token is younger is revoked
 * as soon as it is old enough, so every client gets exactly one revocation per round.
 */
export function startRevocations(options: RevocationOptions): { rounds(): number; stop(): void } {
  const { as, api, clients, tokens, deadline } = options
  // At most just under half the lifetime: the adapters replace their token after half of it,
  // and a token must be able to reach this age while still in use.
  const minAge = () => Math.min(Math.max(300, 2 * options.latency() + 100), options.ttl * 500 - 50)
  const pending = new Set<(typeof clients)[number]>()
  let rounds = 0
  let next: NodeJS.Timeout | undefined

  const scheduleRound = () => {
    next = setTimeout(
      () => {
        if (performance.now() >= deadline) return
        rounds++
        for (const entry of clients) pending.add(entry)
        scheduleRound()
      },
      2_000 + Math.random() * 2_000,
    )
  }
  const poll = setInterval(() => {
    for (const entry of pending) {
      const token = api.lastAccepted(entry.name, minAge())
      if (!token) continue
      pending.delete(entry)
      if (tokens === 'jwt') api.deny(token)
      else as.revoke(token, entry.client).catch((error: unknown) => console.error(error))
    }
  }, 25)
  scheduleRound()

  return {
    rounds: () => rounds,
    stop() {
      clearTimeout(next)
      clearInterval(poll)
    },
  }
}
