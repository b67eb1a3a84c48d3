import type { ResourceStats } from '@oauth-interceptors/demo-servers'
import type { Call } from './clients'
import type { RevocationCounts } from './revocations'

/** One client under load and what happened to its requests. */
export interface Lane {
  label: string
  /** The naive client we compare against; its failures do not fail the demo. */
  baseline: boolean
  call: Call
  /** Requests started by the caller (a transparent retry is not counted again). */
  sent: number
  /** Requests that did not end in 200 or threw. */
  failed: number
  /** Requests that ended in a 401 anyway (their 401 was not recovered). */
  unrecovered: number
  /** The first few failures, for the report. */
  errors: string[]
  /** What the API saw from this client (counted by its `x-demo-client` header). */
  apiStats: () => ResourceStats
  /** Requests this client sent to the token endpoint, as the authorization server counted them. */
  tokenRequests: () => number
}

const format = new Intl.NumberFormat('en-US')
const n = (value: number) => format.format(value)
const range = (low: number, high: number) => (low === high ? n(low) : `${n(low)}–${n(high)}`)

/** 401 answers the API gave this client that ended, after a refresh, in a success. */
const recovered = (lane: Lane) => lane.apiStats().unauthorized - lane.unrecovered

/** One short line of running totals, for a live progress display or a periodic log line. */
export function progressLine(lanes: readonly Lane[], seconds: number): string {
  const ours = lanes.filter((lane) => !lane.baseline)
  const naive = lanes.filter((lane) => lane.baseline)
  const sum = (pick: (lane: Lane) => number, from = ours) =>
    from.reduce((total, lane) => total + pick(lane), 0)
  return [
    `${seconds.toFixed(1).padStart(4)}s`,
    `requests ${n(sum((lane) => lane.sent))}`,
    `401s recovered ${n(sum(recovered))}`,
    `token requests ${n(sum((lane) => lane.tokenRequests()))} (naive ${n(sum((lane) => lane.tokenRequests(), naive))})`,
    `errors ${n(sum((lane) => lane.failed))}`,
  ].join('  ')
}

/** "2 revocation rounds (10 tokens revoked)", or why there were none. */
function revocationSummary({ rounds, revoked }: RevocationCounts): string {
  if (rounds === 0) return 'no revocation round (the run ended before the first)'
  const plural = (count: number, word: string) => `${n(count)} ${word}${count === 1 ? '' : 's'}`
  return `${plural(rounds, 'revocation round')} (${plural(revoked, 'token')} revoked)`
}

/** The closing table: per client, then the comparison with the naive client. */
export function table(lanes: readonly Lane[], revocations: RevocationCounts): string {
  const header = ['client', 'requests', '401s recovered', 'token requests', 'errors']
  const rows = lanes.map((lane) => [
    lane.label,
    n(lane.sent),
    n(recovered(lane)),
    n(lane.tokenRequests()),
    n(lane.failed),
  ])
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('   ')
  const rule = widths.map((width) => '─'.repeat(width)).join('───')
  const ours = lanes.filter((lane) => !lane.baseline)
  const naive = lanes.find((lane) => lane.baseline)
  const out = [line(header), rule, ...rows.slice(0, ours.length).map(line)]
  if (naive) out.push(rule, line(rows[lanes.indexOf(naive)] ?? []))
  out.push('')

  const perClient = ours.map((lane) => lane.tokenRequests())
  const most = Math.max(...perClient)
  const sent = ours.reduce((total, lane) => total + lane.sent, 0)
  const tokens = perClient.reduce((total, count) => total + count, 0)
  out.push(
    `${n(sent)} requests through the four adapters needed ${n(tokens)} token requests ` +
      `(${range(Math.min(...perClient), most)} per client), with tokens that expired every few ` +
      `seconds and ${revocationSummary(revocations)}.`,
  )
  if (naive) {
    const naiveTokens = naive.tokenRequests()
    out.push(
      `The naive client (measured, same concurrency, same revocations: it fetches a token on ` +
        `every 401 and shares nothing) made ${n(naiveTokens)} token requests` +
        (most > 0
          ? `, ${(naiveTokens / most).toFixed(1)}× the most any adapter client made.`
          : '.'),
    )
    if (naive.failed > 0) {
      out.push(
        `The naive client had ${n(naive.failed)} failed requests (${naive.errors.join('; ')}).`,
      )
    }
  }
  const failures = ours.filter((lane) => lane.failed > 0)
  out.push(
    failures.length === 0
      ? 'Errors: 0. Every request through the adapters succeeded.'
      : `FAILED: ${failures.map((lane) => `${lane.label}: ${n(lane.failed)} (${lane.errors.join('; ')})`).join(', ')}`,
  )
  return out.join('\n')
}
