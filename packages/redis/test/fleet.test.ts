import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type FleetProcess, startFleet, stopFleet } from './fleet/fleet'
import { describeWithRedis, type RedisServer, startRedis } from './redis-server'
import { type Api, startApi, startTokenEndpoint, type TokenEndpoint } from './servers'

// Four real Node processes, each with its own token manager and Redis connection, share one
// real redis-server: what a BFF fleet looks like. Counts are printed for the note.
describeWithRedis('a fleet of 4 processes over one Redis', () => {
  let redis: RedisServer
  let endpoint: TokenEndpoint
  let api: Api
  let fleet: FleetProcess[] = []
  let scenario = 0

  // Single flight is the subject here, not failover: the core's default lock TTL, and a
  // store timeout (in fleet-process.ts) that a busy 2-core CI machine does not run into.
  const start = async (lockTtl = 30_000, size = 4, grant?: 'sessions') => {
    endpoint = await startTokenEndpoint()
    api = await startApi(endpoint.issued)
    fleet = await startFleet(size, {
      REDIS_URL: redis.url,
      TOKEN_URL: endpoint.url,
      API_URL: api.url,
      FLEET_PREFIX: `fleet-${++scenario}:`,
      LOCK_TTL: lockTtl,
      ...(grant && { FLEET_GRANT: grant }),
    })
  }
  const everyProcess = <T>(run: (process: FleetProcess) => Promise<T>) =>
    Promise.all(fleet.map(run))

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    await stopFleet(fleet)
    await endpoint?.close()
    await api?.close()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  it('asks the token endpoint once for 4 × 250 concurrent getToken() on a cold fleet', async () => {
    await start()

    const replies = await everyProcess((p) => p.ask({ command: 'tokens', count: 250 }, 'tokens'))

    expect(replies.flatMap((reply) => reply.failures)).toEqual([])
    expect(new Set(replies.flatMap((reply) => reply.accessTokens))).toEqual(new Set(['token-1']))
    expect(endpoint.requests).toHaveLength(1)
    const stats = await everyProcess((p) => p.ask({ command: 'stats' }, 'stats'))
    expect(stats.map((s) => s.requested).sort()).toEqual([0, 0, 0, 1])
    expect(stats.map((s) => s.fromStore).sort()).toEqual([0, 1, 1, 1])
    console.info(`[fleet] cold, 4 × 250 getToken(): ${endpoint.requests.length} token request(s)`)
  }, 120_000)

  it('refreshes once across the fleet when the API revokes the token (4 × 250 requests)', async () => {
    await start()
    const round = async (name: string) => {
      const replies = await everyProcess((p) =>
        p.ask({ command: 'api', count: 250, round: name }, 'api'),
      )
      expect(replies.flatMap((reply) => reply.failures)).toEqual([])
      expect(replies.flatMap((reply) => reply.statuses).filter((s) => s !== 200)).toEqual([])
    }
    await round('warm')
    expect(endpoint.requests).toHaveLength(1)

    api.revoked.add('token-1')
    await round('revoked')

    expect(endpoint.requests).toHaveLength(2)
    expect(endpoint.issued).toEqual(['token-1', 'token-2'])
    const revokedSends = [...api.sends].filter(([id]) => id.startsWith('revoked-'))
    expect(revokedSends).toHaveLength(1000)
    expect(Math.max(...revokedSends.map(([, sends]) => sends))).toBeLessThanOrEqual(2)
    const stats = await everyProcess((p) => p.ask({ command: 'stats' }, 'stats'))
    expect(stats.reduce((sum, s) => sum + s.requested, 0)).toBe(2)
    expect(stats.map((s) => s.storeErrors)).toEqual([0, 0, 0, 0])
    console.info(
      `[fleet] revocation, 4 × 250 API requests: ${endpoint.requests.length - 1} token request(s) after the revocation`,
    )
  }, 120_000)

  it('lets one other process take over when the lock holder dies mid-refresh', async () => {
    const lockTtl = 4_500 // a lease of 1.5 s
    await start(lockTtl)
    endpoint.stallFirst = true
    const firstRequest = endpoint.nextRequest()
    const replies = fleet.map((p) =>
      p.ask({ command: 'tokens', count: 50 }, 'tokens').then(
        (reply) => ({ ...reply, at: performance.now() }),
        () => undefined, // the killed holder never replies
      ),
    )

    const stalled = await firstRequest
    const holder = fleet.find((p) => p.name === stalled.process)
    expect(holder).toBeDefined()
    holder?.child.kill('SIGKILL')
    const survivors = (await Promise.all(replies)).filter((reply) => reply !== undefined)

    const waited = Math.max(...survivors.map((reply) => reply.at)) - stalled.at
    const afterDeath = endpoint.requests.slice(1)
    console.info(
      `[fleet] holder killed mid-refresh: ${endpoint.requests.length} token request(s) in all ` +
        `(1 stalled + ${afterDeath.length} by ${[...new Set(afterDeath.map((r) => r.process))].join(', ')}), ` +
        `survivors served ${Math.round(waited)} ms after the stalled request (lockTtl ${lockTtl} ms)`,
    )
    expect(survivors).toHaveLength(3)
    expect(survivors.flatMap((reply) => reply.failures)).toEqual([])
    expect(afterDeath).toHaveLength(1)
    expect(new Set(survivors.flatMap((reply) => reply.accessTokens))).toEqual(new Set(['token-1']))
    expect(waited).toBeLessThan(lockTtl)
  }, 120_000)

  it('refreshes each user session once across two BFF processes, with its newest refresh token (2 × 100 calls, twice)', async () => {
    await start(30_000, 2, 'sessions')
    const [p1, p2] = fleet as [FleetProcess, FleetProcess]
    const login = (user: string) => ({
      access_token: `login-${user}`,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: `login-refresh-${user}`,
    })
    await p1.ask(
      { command: 'setSession', session: 'sid-alice', response: login('alice') },
      'session',
    )
    await p1.ask({ command: 'setSession', session: 'sid-bob', response: login('bob') }, 'session')
    const sessions = ['sid-alice', 'sid-bob']
    // Both processes meet a 401 for the tokens given, 100 calls each, at once.
    const rejectedRound = async (rejected: string[]) => {
      const replies = await everyProcess((p) =>
        p.ask({ command: 'sessionCalls', count: 100, sessions, rejected }, 'sessionCalls'),
      )
      expect(replies.flatMap((reply) => reply.failures)).toEqual([])
      // Every call of a session, in either process, ends with the same new token.
      const alice = new Set(replies.flatMap((reply) => reply.accessTokens['sid-alice'] ?? []))
      const bob = new Set(replies.flatMap((reply) => reply.accessTokens['sid-bob'] ?? []))
      expect(alice.size).toBe(1)
      expect(bob.size).toBe(1)
      return { alice: [...alice][0] as string, bob: [...bob][0] as string }
    }

    const first = await rejectedRound(['login-alice', 'login-bob'])
    expect(endpoint.requests.map((r) => r.form.refresh_token).sort()).toEqual([
      'login-refresh-alice',
      'login-refresh-bob',
    ])
    expect(endpoint.requests.every((r) => r.form.grant_type === 'refresh_token')).toBe(true)

    // The server rotated both refresh tokens: the second refreshes must send the new ones,
    // whichever process stored them.
    await rejectedRound([first.alice, first.bob])
    expect(endpoint.requests).toHaveLength(4)
    const rotated = endpoint.requests.slice(2).map((r) => r.form.refresh_token)
    expect(rotated.sort()).toEqual(['refresh-1', 'refresh-2'])
    console.info(
      `[fleet] 2 BFF processes, 2 sessions, 2 rounds of 2 × 100 rejected calls: ${endpoint.requests.length} refresh(es), by ${endpoint.requests.map((r) => r.process).join(', ')}`,
    )

    // Logout in one process ends the session for the other.
    await p1.ask({ command: 'endSession', session: 'sid-alice' }, 'session')
    const after = await p2.ask(
      { command: 'sessionCalls', count: 1, sessions: ['sid-alice'], rejected: [] },
      'sessionCalls',
    )
    expect(after.failures).toEqual([expect.stringContaining('The session has no tokens')])
  }, 120_000)
})
