import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe } from 'vitest'

/** Whether the `redis-server` binary (Debian package `redis-server`) is on PATH. */
export const hasRedisServer = !spawnSync('redis-server', ['--version']).error

// The node announces its address: else it reports an empty host, which ioredis can't map.
const CLUSTER_ARGS = [
  ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
  ...['--cluster-announce-ip', '127.0.0.1'],
]

const MISSING = 'redis-server is not installed: apt-get install -y redis-server'

const skip = !hasRedisServer && !process.env.CI
if (skip) {
  process.stderr.write(
    `\n${'!'.repeat(78)}\n!! SKIPPING the @oauth-interceptors/redis suite: ${MISSING}\n${'!'.repeat(78)}\n\n`,
  )
}
/**
 * `describe` for suites that need a real redis-server. On a developer machine without it the
 * suite is skipped with a loud notice; in CI (`CI` set) it runs, and startRedis() fails it.
 */
export function describeWithRedis(name: string, body: () => void): void {
  describe.skipIf(skip)(name, body)
}

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the server (SIGTERM) and resolves once the process has exited. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty (nothing is persisted). */
  restart(): Promise<void>
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void
  /** Lets a paused server go on (SIGCONT). */
  resume(): void
}

/**
 * Starts `redis-server --port <free port> --bind 127.0.0.1 --save '' --appendonly no` and
 * resolves once it accepts connections. With `cluster`, a one-node Redis Cluster owning all
 * 16384 slots. Stop it in afterAll.
 */
export async function startRedis(options: { cluster?: boolean } = {}): Promise<RedisServer> {
  if (!hasRedisServer) throw new Error(`${MISSING} (CI must run the Redis suite)`)
  const port = await freePort()
  let server: ChildProcess | undefined
  let dir = ''
  const start = async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauth-redis-'))
    server = await spawnRedis([
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', dir],
      ...(options.cluster ? CLUSTER_ARGS : []),
    ])
    if (options.cluster) {
      redisCli(port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
      // A fresh node needs a moment to see its own slots; wait for the state, not for time.
      while (!redisCli(port, 'CLUSTER', 'INFO').includes('cluster_state:ok')) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
  const stop = async () => {
    const running = server
    server = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    running.kill('SIGCONT') // a paused server would not act on SIGTERM
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop()
      await start()
    },
    pause: () => server?.kill('SIGSTOP'),
    resume: () => server?.kill('SIGCONT'),
  }
}

function spawnRedis(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (/Ready to accept connections/.test(output)) {
        child.stdout?.off('data', onData)
        child.off('exit', onExit)
        child.stdout?.resume() // keep draining, so a chatty server never blocks on a full pipe
        resolve(child)
      }
    }
    const onExit = (code: number | null) =>
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`))
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', onExit)
    child.once('error', reject)
  })
}

function redisCli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })
  if (result.error) throw result.error
  return result.stdout
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
