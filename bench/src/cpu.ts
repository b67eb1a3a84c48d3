/**
 * Scenario 2c: client-side CPU per request on the in-process transport, the client under test
 * vs the same client with a fixed header, alternating rounds. Measured with
 * `process.cpuUsage()`, which other processes on the machine barely disturb.
 */
import { type InProcessSpec, inProcessSpecs, kyNoopHooks, type Send, sendMany } from './in-process'
import { median } from './overhead'

export interface CpuResult {
  client: string
  ours: boolean
  base: string
  /** Median CPU µs per request of the bare client and of the client under test. */
  bareUs: number
  authUs: number
  /** authUs − bareUs: the work the token handling adds per request. */
  addedUs: number
  rounds: number
}

/** CPU µs (user + system) per request over `count` requests of `send`, 8 at a time. */
export function cpuPerRequest(send: Send, count: number): Promise<number> {
  const before = process.cpuUsage()
  return sendMany(send, count, 8).then(() => {
    const used = process.cpuUsage(before)
    return (used.user + used.system) / count
  })
}

export async function runCpu(
  options: { requests: number; rounds: number },
  specs: readonly InProcessSpec[] = [...inProcessSpecs, kyNoopHooks],
): Promise<CpuResult[]> {
  const results: CpuResult[] = []
  for (const spec of specs) {
    const auth = spec.create()
    const bare = spec.bare()
    await sendMany(bare.send, options.requests, 8)
    await sendMany(auth.send, options.requests, 8)
    const bareUs: number[] = []
    const authUs: number[] = []
    const added: number[] = []
    for (let round = 0; round < options.rounds; round++) {
      let a: number
      let b: number
      if (round % 2 === 0) {
        a = await cpuPerRequest(bare.send, options.requests)
        b = await cpuPerRequest(auth.send, options.requests)
      } else {
        b = await cpuPerRequest(auth.send, options.requests)
        a = await cpuPerRequest(bare.send, options.requests)
      }
      bareUs.push(a)
      authUs.push(b)
      added.push(b - a)
    }
    results.push({
      client: spec.name,
      ours: spec.ours,
      base: spec.base,
      bareUs: median(bareUs),
      authUs: median(authUs),
      addedUs: median(added),
      rounds: options.rounds,
    })
  }
  return results
}
