import { type SpawnOptions, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CHROMIUM } from '@oauth-interceptors/demo-servers/chromium'

export const ROOT = new URL('../..', import.meta.url).pathname
export const HERE = new URL('..', import.meta.url).pathname

/** The packages the smoke installs, packed as they would be published. */
export const PACKAGES = ['core', 'axios', 'ky', 'ofetch', 'fetch', 'undici', 'browser'] as const

/** The HTTP clients the consumer installs next to the tarballs, pinned as a user would pin them. */
export const CLIENTS = {
  axios: '1.21.1',
  ky: '1.14.3',
  // ky 2 declares Node >= 22 (engines); installed under an alias beside ky 1.
  ky2: 'npm:ky@2.1.0',
  ofetch: '1.5.1',
  undici: '7.30.2',
}

/** Children still running, ended when the harness stops early. */
export const children = new Set<Child>()
type Child = ReturnType<typeof spawn>

export interface Ran {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs a command to its end (or `timeout` ms, then kills its process group). */
export function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { timeout?: number; onSpawn?: (child: Child) => void } = {},
): Promise<Ran> {
  const { timeout = 120_000, onSpawn, ...spawnOptions } = options
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...spawnOptions,
    })
    children.add(child)
    onSpawn?.(child)
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => {
      timedOut = true
      kill(child)
    }, timeout)
    const done = (code: number | null) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr, timedOut })
    }
    child.on('error', (error) => {
      stderr += String(error)
      done(null)
    })
    child.on('close', done)
  })
}

/** Ends a child and everything it started (its process group). */
export function kill(child: Child): void {
  if (child.pid === undefined || child.exitCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

/** The last lines of a command's output, for a failure report. */
export function tail(ran: Ran, lines = 8): string {
  const text = `${ran.stdout}\n${ran.stderr}`.trim().split('\n')
  return `${ran.timedOut ? 'timed out; ' : ''}exit ${ran.code}: ${text.slice(-lines).join('\n')}`
}

/** Where the runtimes are installed; kept between runs (gitignored). */
export const TOOLS = join(HERE, '.cache', 'tools')

/** The binaries of the pinned runtimes, inside their npm packages. */
export const BINARIES = {
  node22: join(TOOLS, 'node_modules/node22/bin/node'),
  node24: join(TOOLS, 'node_modules/node24/bin/node'),
  bun: join(TOOLS, 'node_modules/@oven/bun-linux-x64/bin/bun'),
  deno: join(TOOLS, 'node_modules/@deno/linux-x64-glibc/deno'),
  workerd: join(TOOLS, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd'),
}

/**
 * Installs the runtimes of tools/package-lock.json with npm into runtimes/.cache/tools, unless
 * the same lockfile was installed there before. Install scripts are not run: each binary ships
 * in its platform package, so nothing is downloaded from anywhere but the registry.
 */
export async function installTools(): Promise<string | undefined> {
  const lock = await readFile(join(HERE, 'tools/package-lock.json'))
  const hash = createHash('sha256').update(lock).digest('hex')
  const stamp = join(TOOLS, '.installed')
  const installed = existsSync(stamp) ? await readFile(stamp, 'utf8') : ''
  if (installed === hash && Object.values(BINARIES).every((path) => existsSync(path))) {
    return undefined
  }
  await rm(TOOLS, { recursive: true, force: true })
  await mkdir(TOOLS, { recursive: true })
  await copyFile(join(HERE, 'tools/package.json'), join(TOOLS, 'package.json'))
  await copyFile(join(HERE, 'tools/package-lock.json'), join(TOOLS, 'package-lock.json'))
  const ran = await run(
    'npm',
    ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: TOOLS, timeout: 240_000 },
  )
  if (ran.code !== 0) return `npm ci of the runtimes failed: ${tail(ran)}`
  const missing = Object.entries(BINARIES).filter(([, path]) => !existsSync(path))
  if (missing.length) return `not installed: ${missing.map(([name]) => name).join(', ')}`
  await writeFile(stamp, hash)
  return undefined
}

/** Installs Debian's chromium where it is missing; returns why it could not. */
export async function installChromium(): Promise<string | undefined> {
  if (existsSync(CHROMIUM)) return undefined
  const root = process.getuid?.() === 0
  const asRoot = (args: string[]) =>
    root
      ? run(args[0] ?? '', args.slice(1), { timeout: 240_000 })
      : run('sudo', ['-n', ...args], { timeout: 240_000 })
  await asRoot(['apt-get', 'update'])
  const ran = await asRoot([
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    'install',
    '-y',
    '--no-install-recommends',
    'chromium',
  ])
  if (ran.code !== 0 || !existsSync(CHROMIUM)) return `apt-get install chromium: ${tail(ran)}`
  return undefined
}

/**
 * Packs the built packages (`pnpm pack`: workspace:* becomes the real version) and installs
 * the tarballs with npm into a new consumer project under `dir`, with the template files of
 * consumer/ beside them.
 */
export async function makeConsumer(dir: string): Promise<string | undefined> {
  const tarballs = join(dir, 'tarballs')
  const consumer = join(dir, 'consumer')
  await mkdir(tarballs, { recursive: true })
  await mkdir(consumer, { recursive: true })
  const dependencies: Record<string, string> = {}
  for (const name of PACKAGES) {
    const before = new Set(await readdir(tarballs))
    const ran = await run('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(ROOT, 'packages', name),
    })
    const made = (await readdir(tarballs)).find((file) => !before.has(file))
    if (ran.code !== 0 || !made) return `pnpm pack of ${name} failed: ${tail(ran)}`
    dependencies[`@oauth-interceptors/${name}`] = `file:${join(tarballs, made)}`
  }
  Object.assign(dependencies, CLIENTS)
  const manifest = { name: 'smoke-consumer', private: true, version: '0.0.0', dependencies }
  await writeFile(join(consumer, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  for (const file of await readdir(join(HERE, 'consumer'))) {
    await copyFile(join(HERE, 'consumer', file), join(consumer, file))
  }
  const ran = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'],
    { cwd: consumer, timeout: 180_000 },
  )
  if (ran.code !== 0) return `npm install in the consumer failed: ${tail(ran)}`
  return undefined
}
