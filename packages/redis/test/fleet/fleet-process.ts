// One process of the test fleet, run by fleet.ts as
// `node --conditions=source --import tsx fleet-process.ts` with its settings in env.
// It answers commands from the test over IPC.
import { Redis } from 'ioredis'
import { redisTokenStore } from '../../src/index'
import { burst, callApi, fleetManager } from './fleet-manager'

export type FleetCommand =
  | { command: 'tokens'; count: number }
  | { command: 'api'; count: number; round: string }
  | { command: 'stats' }
  | { command: 'setSession'; session: string; response: Record<string, unknown> }
  | { command: 'endSession'; session: string }
  | { command: 'sessionCalls'; count: number; sessions: string[]; rejected: string[] }

export type FleetReply =
  | { type: 'ready' }
  | { type: 'tokens'; accessTokens: string[]; failures: string[] }
  | { type: 'api'; statuses: number[]; failures: string[] }
  | { type: 'stats'; requested: number; fromStore: number; storeErrors: number }
  | { type: 'session' }
  | { type: 'sessionCalls'; accessTokens: Record<string, string[]>; failures: string[] }

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const name = env('FLEET_PROCESS')
const reply = (message: FleetReply) => process.send?.(message)

const client = new Redis(env('REDIS_URL'))
const store = redisTokenStore({
  client,
  prefix: env('FLEET_PREFIX'),
  pollInterval: 50,
  timeout: 5_000,
})
let storeErrors = 0
const tokens = fleetManager({
  tokenUrl: env('TOKEN_URL'),
  store,
  processName: name,
  lockTtl: Number(env('LOCK_TTL')),
  grant: process.env.FLEET_GRANT === 'sessions' ? 'sessions' : 'client',
  onEvent: (event) => {
    if (event.type === 'store_error') storeErrors++
  },
})

process.on('message', async (message: FleetCommand) => {
  if (message.command === 'tokens') {
    const { values, failures } = await burst(message.count, () => tokens.getToken())
    reply({
      type: 'tokens',
      accessTokens: [...new Set(values.map((t) => t.accessToken))],
      failures,
    })
  } else if (message.command === 'api') {
    const { values, failures } = await burst(message.count, (index) =>
      callApi(tokens, env('API_URL'), `${message.round}-${name}-${index}`),
    )
    reply({ type: 'api', statuses: values, failures })
  } else if (message.command === 'setSession') {
    await tokens.setSession(message.session, message.response)
    reply({ type: 'session' })
  } else if (message.command === 'endSession') {
    await tokens.endSession(message.session)
    reply({ type: 'session' })
  } else if (message.command === 'sessionCalls') {
    // Call i is of session i mod n; a token in `rejected` is what the API answered 401 to,
    // so it is invalidated (the stale-401 rule) and the session's token asked for again.
    const { sessions, rejected } = message
    const { values, failures } = await burst(message.count, async (index) => {
      const session = sessions[index % sessions.length] as string
      let token = await tokens.getToken({ session })
      if (rejected.includes(token.accessToken)) {
        tokens.invalidate(token.accessToken)
        token = await tokens.getToken({ session })
      }
      return [session, token.accessToken] as const
    })
    const accessTokens: Record<string, string[]> = {}
    for (const session of sessions) {
      const seen = values.filter(([of]) => of === session).map(([, accessToken]) => accessToken)
      accessTokens[session] = [...new Set(seen)]
    }
    reply({ type: 'sessionCalls', accessTokens, failures })
  } else if (message.command === 'stats') {
    const { requested, fromStore } = tokens.stats()
    reply({ type: 'stats', requested, fromStore, storeErrors })
  }
})
// The test ends a process by disconnecting IPC (or with SIGKILL).
process.on('disconnect', () => {
  void store.close()
  client.disconnect()
})

client.once('ready', () => reply({ type: 'ready' }))
