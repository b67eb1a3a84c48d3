/**
 * CPU profiles of the per-request path of one in-process client of scenario 2c, with its bare
 * client beside it, and what the token handling adds per request, function by function:
 *
 *   node --import tsx bench/src/profile.ts axios [requests] [--out=dir]
 *
 * Each side is warmed up, then V8's sampling profiler (the one `node --cpu-prof` starts, here
 * through `node:inspector` so that start-up and warm-up stay out of it) records `requests`
 * (default 100,000) requests sent 8 at a time. The `.cpuprofile` files are written to `--out`
 * (default the system's temp dir) for Chrome DevTools or speedscope. Printed: CPU µs per
 * request of each side, then self time per request by part of the process (our packages, the
 * HTTP client, Node internals, GC) and by function, bare and with the token, largest added first.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inProcessSpecs, type Send, sendMany } from './in-process'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Which part of the process a frame belongs to, from its script URL. */
function owner(url: string, name: string): string {
  if (url === '') return `(${name.replace(/[()]/g, '')})`
  if (url.startsWith('node:')) return 'node internals'
  const ours = /packages\/([a-z]+)\/dist\//.exec(url)
  if (ours) return `@oauth-interceptors/${ours[1]}`
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(
    url,
  )
  if (dependency) return dependency[1] as string
  if (url.includes('/bench/src/')) return 'bench (transport, driver)'
  return url
}

/** Self time in µs per request, by part of the process and by function. */
function selfTimes(profile: Profile, requests: number) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const byFunction = new Map<string, number>()
  const byOwner = new Map<string, number>()
  profile.samples.forEach((id, index) => {
    const time = (profile.timeDeltas[index] ?? 0) / requests
    const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame
    const part = owner(url, functionName)
    const name = url
      ? `${functionName || '(anonymous)'} (${part} ${url.split('/').pop()}:${lineNumber + 1})`
      : part
    byFunction.set(name, (byFunction.get(name) ?? 0) + time)
    byOwner.set(part, (byOwner.get(part) ?? 0) + time)
  })
  return { byFunction, byOwner }
}

async function profiled(session: Session, send: Send, requests: number): Promise<Profile> {
  await sendMany(send, 2_000, 8)
  await session.post('Profiler.start')
  await sendMany(send, requests, 8)
  const { profile } = await session.post('Profiler.stop')
  return profile as unknown as Profile
}

function table(
  title: string,
  bare: Map<string, number>,
  auth: Map<string, number>,
  count: number,
): string {
  const names = new Set([...bare.keys(), ...auth.keys()])
  const rows = [...names]
    .map((name) => ({ name, bare: bare.get(name) ?? 0, auth: auth.get(name) ?? 0 }))
    .sort((a, b) => b.auth - b.bare - (a.auth - a.bare))
    .slice(0, count)
  return [
    `| ${title} | bare µs | with token µs | added µs |`,
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.bare.toFixed(2)} | ${row.auth.toFixed(2)} | ${(row.auth - row.bare).toFixed(2)} |`,
    ),
  ].join('\n')
}

const args = process.argv.slice(2)
const name = args.find((arg) => !arg.startsWith('--') && !/^\d+$/.test(arg)) ?? 'axios'
const requests = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100_000)
const out = args.find((arg) => arg.startsWith('--out='))?.slice('--out='.length) ?? tmpdir()
const spec = inProcessSpecs.find((candidate) => candidate.name === `@oauth-interceptors/${name}`)
if (!spec) throw new Error(`no in-process client @oauth-interceptors/${name}`)

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
const cpu: Record<string, number> = {}
const profiles: Record<string, Profile> = {}
// Bare, token, bare, token: the second pair is the one kept (the first warms the JIT for both).
for (const pass of [0, 1]) {
  for (const side of ['bare', 'auth'] as const) {
    const { send } = side === 'bare' ? spec.bare() : spec.create()
    const before = process.cpuUsage()
    const profile = await profiled(session, send, requests)
    const used = process.cpuUsage(before)
    if (pass === 1) {
      cpu[side] = (used.user + used.system) / (requests + 2_000)
      profiles[side] = profile
      writeFileSync(join(out, `${name}-${side}.cpuprofile`), JSON.stringify(profile))
    }
  }
}
session.disconnect()
const bare = selfTimes(profiles.bare as Profile, requests)
const auth = selfTimes(profiles.auth as Profile, requests)
process.stdout.write(
  [
    `${spec.name}: ${(cpu.bare as number).toFixed(1)} µs CPU per request bare, ${(cpu.auth as number).toFixed(1)} with the token (profiler on; ${requests} requests each; profiles in ${out})`,
    '',
    table('part of the process (self time per request)', bare.byOwner, auth.byOwner, 12),
    '',
    table('function (self time per request)', bare.byFunction, auth.byFunction, 30),
    '',
  ].join('\n'),
)
