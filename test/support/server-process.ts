import { type ChildProcess, spawn } from 'node:child_process'

/** A framework's server, started as its own process. */
export interface ServerProcess {
  /** The origin it printed, `http://127.0.0.1:<port>`. */
  url: string
  /** What it printed so far (for a failure message). */
  output(): string
  /** Stops it (and its children) and waits for it to exit. */
  close(): Promise<void>
}

/**
 * Starts `command` in its own process group and waits until it prints
 * `listening on http://127.0.0.1:<port>`. Each such process runs with the test's environment
 * plus `env`; `close()` ends the group, so nothing outlives the test file.
 */
export async function startServerProcess(
  command: string,
  args: string[],
  options: {
    cwd: string
    env?: Record<string, string>
    timeout?: number
    /** What the output shows once it serves, its first group the origin. @default "listening on <origin>" */
    ready?: RegExp
  },
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }, 5_000)
      await exited
      clearTimeout(timer)
    }
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`${command} did not start within ${options.timeout ?? 60_000} ms:\n${output}`),
      )
    }, options.timeout ?? 60_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const match = (options.ready ?? /listening on (http:\/\/127\.0\.0\.1:\d+)/i).exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', read)
    child.stderr?.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} exited (${code}) before listening:\n${output}`))
    })
  }).catch(async (error: unknown) => {
    await close()
    throw error
  })
  return { url, output: () => output, close }
}
