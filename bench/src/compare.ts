/**
 * `pnpm bench --compare=<git ref>`: scenario 2c for this checkout and for `ref`, measured in one
 * process with their rounds interleaved in random order, so machine load falls on both alike.
 * Shows whether a change made an adapter dearer; run figures from two separate runs swing by
 * more than most changes cost. `ref` is checked out into a temporary git worktree (its packages
 * installed from pnpm's store and built) and removed afterwards.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cpuPerRequest } from './cpu'
import { type InProcessSpec, inProcessSpecs, type Send, sendMany } from './in-process'
import { median, quantile } from './overhead'

export interface CompareResult {
  client: string
  /** Median added CPU µs per request (with token − bare) of `ref` and of this checkout. */
  refUs: number
  thisUs: number
  /**
   * This checkout's CPU per request with the token minus `ref`'s, paired within each round
   * (the bare clients are the same code, so they cancel): median and quartiles, in µs.
   */
  change: { median: number; q1: number; q3: number }
  rounds: number
}

/** Checks `ref` out beside this one and loads its in-process clients. */
async function checkout(ref: string): Promise<{ specs: InProcessSpec[]; remove(): void }> {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim()
  const dir = join(mkdtempSync(join(tmpdir(), 'oauth-bench-')), 'ref')
  const run = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
  run('git', ['worktree', 'add', '--detach', dir, ref], root)
  const remove = () => {
    run('git', ['worktree', 'remove', '--force', dir], root)
    rmSync(join(dir, '..'), { recursive: true, force: true })
  }
  try {
    run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], dir)
    // Measured as they ship, as this checkout's are (the package script built those).
    run(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'],
      dir,
    )
    const module = (await import(pathToFileURL(join(dir, 'bench/src/in-process.ts')).href)) as {
      inProcessSpecs: InProcessSpec[]
    }
    return { specs: module.inProcessSpecs, remove }
  } catch (error) {
    remove()
    throw error
  }
}

/** Loads the in-process clients of a checkout already installed and built in `dir`. */
async function existing(dir: string): Promise<{ specs: InProcessSpec[]; remove(): void }> {
  const module = (await import(pathToFileURL(join(dir, 'bench/src/in-process.ts')).href)) as {
    inProcessSpecs: InProcessSpec[]
  }
  return { specs: module.inProcessSpecs, remove: () => {} }
}

/**
 * 2c of this checkout against `ref`; with `dir`, against the checkout of it already installed
 * and built there (kept), for comparing again after each change without a new checkout.
 */
export async function runCompare(
  ref: string,
  options: { requests: number; rounds: number },
  dir?: string,
): Promise<CompareResult[]> {
  const other = dir ? await existing(dir) : await checkout(ref)
  try {
    const results: CompareResult[] = []
    for (const spec of inProcessSpecs.filter((spec) => spec.ours)) {
      const old = other.specs.find((candidate) => candidate.name === spec.name)
      if (!old) continue
      const sends = [old.bare().send, old.create().send, spec.bare().send, spec.create().send]
      for (const send of sends) await sendMany(send, options.requests, 8)
      const refAdded: number[] = []
      const thisAdded: number[] = []
      const changes: number[] = []
      for (let round = 0; round < options.rounds; round++) {
        const order = [0, 1, 2, 3].sort(() => Math.random() - 0.5)
        const us: number[] = []
        for (const index of order)
          us[index] = await cpuPerRequest(sends[index] as Send, options.requests)
        const [oldBare = 0, oldAuth = 0, bare = 0, auth = 0] = us
        refAdded.push(oldAuth - oldBare)
        thisAdded.push(auth - bare)
        changes.push(auth - oldAuth)
      }
      results.push({
        client: spec.name,
        refUs: median(refAdded),
        thisUs: median(thisAdded),
        change: {
          median: median(changes),
          q1: quantile(changes, 0.25),
          q3: quantile(changes, 0.75),
        },
        rounds: options.rounds,
      })
    }
    return results
  } finally {
    other.remove()
  }
}

export function renderCompare(ref: string, results: readonly CompareResult[]): string {
  const verdict = ({ change }: CompareResult) =>
    change.q1 > 0 ? '**dearer**' : change.q3 < 0 ? 'cheaper' : 'no difference resolved'
  const rows = results.map(
    (r) =>
      `| **${r.client}** | ${r.refUs.toFixed(1)} | ${r.thisUs.toFixed(1)} | ${r.change.median.toFixed(1)} (${r.change.q1.toFixed(1)} … ${r.change.q3.toFixed(1)}) | ${verdict(r)} |`,
  )
  return [
    `### Added CPU per request (2c): this checkout against ${ref}`,
    '',
    `Scenario 2c for both in one process, rounds interleaved in random order (${results[0]?.rounds ?? 0} rounds).`,
    'Added = median of with token − bare. Change = this checkout with token − the ref with token,',
    'paired per round: median (quartiles). Dearer or cheaper only when the quartiles agree.',
    '',
    `| client | ${ref} added µs | this added µs | change µs | verdict |`,
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}
