import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { FleetCommand, FleetReply } from './fleet-process'

const script = fileURLToPath(new URL('./fleet-process.ts', import.meta.url))
const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface FleetProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Sends a command and resolves with the process's next reply. */
  ask<T extends FleetReply['type']>(
    message: FleetCommand,
    type: T,
  ): Promise<Extract<FleetReply, { type: T }>>
}

/**
 * Starts `size` Node processes, each running the core token manager over the Redis store
 * (TypeScript sources through tsx and the `source` export condition), and resolves once all
 * are connected to Redis.
 */
export async function startFleet(
  size: number,
  env: {
    REDIS_URL: string
    TOKEN_URL: string
    API_URL: string
    FLEET_PREFIX: string
    LOCK_TTL: number
    /** `sessions`: a BFF's user sessions (userTokens) instead of client credentials. */
    FLEET_GRANT?: 'sessions'
  },
): Promise<FleetProcess[]> {
  const fleet = Array.from({ length: size }, (_, index) => {
    const name = `p${index + 1}`
    const child = fork(script, {
      cwd: packageRoot, // where `tsx` resolves from
      execArgv: ['--conditions=source', '--import', 'tsx'],
      env: { ...process.env, ...env, LOCK_TTL: String(env.LOCK_TTL), FLEET_PROCESS: name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    return { name, child, ask: ask(child) }
  })
  await Promise.all(fleet.map(({ child }) => nextReply(child, 'ready')))
  return fleet
}

/** Ends the processes still running and waits for them to exit. */
export async function stopFleet(fleet: readonly FleetProcess[]): Promise<void> {
  await Promise.all(
    fleet.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }),
  )
}

function ask(child: ChildProcess): FleetProcess['ask'] {
  return (message, type) => {
    const reply = nextReply(child, type)
    child.send(message)
    return reply
  }
}

function nextReply<T extends FleetReply['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FleetReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FleetReply) => {
      if (message.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(message as Extract<FleetReply, { type: T }>)
    }
    const onExit = (code: number | null, signal: string | null) => {
      child.off('message', onMessage)
      reject(new Error(`fleet process exited (${code ?? signal}) before it sent "${type}"`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}
