import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../', import.meta.url))
const out = `${root}build/`

/** The workerd binary of the `workerd` npm package (its platform package ships it). */
const workerdBinary: string = createRequire(import.meta.url)('workerd').default

/** The worker, bundled as workerd loads it: one ES module, workerd's export conditions first. */
export async function bundleWorker(): Promise<string> {
  await mkdir(out, { recursive: true })
  await build({
    entryPoints: [`${root}src/worker.ts`],
    outfile: `${out}worker.js`,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // "source": the workspace packages' TypeScript, so no package build is needed first.
    conditions: ['source', 'workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  })
  return `${out}worker.js`
}

/** A workerd config: the worker on 127.0.0.1:`port`, its bindings, and loopback reachable. */
function config(port: number, bindings: Readonly<Record<string, string>>): string {
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(',\n      ')
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .bff),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const bff :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-23",
  bindings = [
      ${text}
  ],
);
`
}

/** A free port on 127.0.0.1 (workerd takes its socket address from the config). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * Bundles the worker and serves it with workerd on 127.0.0.1; resolves once it answers.
 * `close()` stops workerd.
 */
export async function startWorkerd(
  bindings: Readonly<Record<string, string>>,
  port?: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  await bundleWorker()
  const chosen = port || (await freePort())
  await writeFile(`${out}config.capnp`, config(chosen, bindings))
  const child: ChildProcess = spawn(workerdBinary, ['serve', `${out}config.capnp`], {
    cwd: out,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  const url = `http://127.0.0.1:${chosen}`
  const started = Date.now()
  while (Date.now() - started < 20_000) {
    if (child.exitCode !== null) break
    const up = await fetch(`${url}/login`, { redirect: 'manual' }).then(
      () => true,
      () => false,
    )
    if (up) return { url, close }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await close()
  throw new Error('workerd did not start')
}
