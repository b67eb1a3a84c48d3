import { API_KEY, type ClientRecord, SECRET } from './servers'

/** What the scenario reported for one cell in one mode (see consumer/smoke.mjs). */
export interface SmokeResult {
  steps: Record<string, Array<{ status: number; error?: string }>>
  tokenRedirect?: { name?: string; code?: string; status?: number; message?: string }
}

export type Mode = 'bearer' | 'static'

/** One cell in one mode, as the scenario gets it. */
export interface SmokeCell {
  client: string
  adapter: string
  mode: Mode
  browser: boolean
  urls: { token: string; api: string; foreign: string }
  secret: string
  apiKey: string
}

/** The token requests of one mode, and every way it failed (empty when it passed). */
export interface Verdict {
  tokens: number[]
  problems: string[]
}

const BURST = 8

/**
 * Judges one mode of a cell by what the servers recorded (what was sent), and by what the
 * client came back with.
 */
export function judge(
  cell: SmokeCell,
  result: SmokeResult | undefined,
  record: ClientRecord,
  moved: ClientRecord,
  tokenOrigin: string,
): Verdict {
  const problems: string[] = []
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem)
  }
  const marks = record.marks
  const tokensAt = (step: string) => marks[step]?.tokens ?? Number.NaN
  const segment = (from: string | undefined, to: string) =>
    record.api.slice(from ? (marks[from]?.api ?? 0) : 0, marks[to]?.api ?? 0)
  if (!result) return { tokens: [record.tokens.length], problems: ['no result'] }

  const statuses = (step: string) => (result.steps[step] ?? []).map((r) => r.status)
  const allOk = (step: string, count: number) => {
    const got = statuses(step)
    const errors = (result.steps[step] ?? []).flatMap((r) => (r.error ? [r.error] : []))
    check(
      got.length === count && got.every((s) => s === 200),
      `${step}: client got [${got.join(',')}]${errors.length ? ` (${errors[0]})` : ''}`,
    )
  }
  const carried = (step: string, from: string | undefined, index: number) => {
    const hits = segment(from, step).filter((hit) => hit.path === '/data')
    const ok = hits.filter((hit) => hit.status === 200)
    check(
      ok.length === BURST && ok.every((hit) => hit.token === index),
      `${step}: API answered ${ok.length} of ${BURST} with token #${index + 1}`,
    )
    return hits
  }

  allOk('cold', BURST)
  check(tokensAt('cold') === 1, `cold burst: ${tokensAt('cold')} token requests, expected 1`)
  const cold = carried('cold', undefined, 0)
  check(
    cold.every((hit) => hit.status === 200),
    'cold burst: the API rejected a request of the cold burst',
  )
  const tokens = [tokensAt('cold')]

  if (cell.mode === 'bearer') {
    allOk('revoke', BURST)
    check(tokensAt('revoke') === 2, `revoke: ${tokensAt('revoke')} token requests, expected 2`)
    const revoke = carried('revoke', 'cold', 1)
    check(
      revoke.some((hit) => hit.status === 401),
      'revoke: the API never rejected the revoked token',
    )
    allOk('expiry', BURST)
    check(tokensAt('expiry') === 3, `expiry: ${tokensAt('expiry')} token requests, expected 3`)
    const expiry = carried('expiry', 'revoke', 2)
    check(
      expiry.every((hit) => hit.status === 200),
      'expiry: a 401 before the refresh (not proactive)',
    )
    tokens.push(tokensAt('revoke'), tokensAt('expiry'))
  }
  check(
    tokensAt('end') === tokens[tokens.length - 1],
    `foreign and redirect requests started ${tokensAt('end') - (tokens.at(-1) ?? 0)} token requests`,
  )

  // Static-header mode: the API got the key with every request; bearer mode: never.
  const apiKeys = record.api.map((hit) => hit.apiKey)
  if (cell.mode === 'static') {
    check(
      apiKeys.every((key) => key === API_KEY),
      'static headers: a request reached the API without x-api-key',
    )
  } else {
    check(
      apiKeys.every((key) => key === undefined),
      'bearer mode: x-api-key sent without being configured',
    )
  }

  // No credentials to a foreign origin, directly or across the API's cross-origin 302.
  allOk('foreign', 1)
  const foreign = record.foreign
  check(
    foreign.filter((hit) => hit.path === '/direct').length === 1,
    'foreign: the request did not arrive',
  )
  for (const hit of foreign) {
    check(
      hit.authorization === undefined,
      `${hit.path}: the foreign origin got an Authorization header`,
    )
    check(hit.apiKey === undefined, `${hit.path}: the foreign origin got x-api-key`)
  }
  const hop = record.api.filter((hit) => hit.path === '/redirect')
  check(
    hop.length === 1 && hop[0]?.status === 200,
    'redirect: the API hop did not carry the current token',
  )
  const landed = foreign.filter((hit) => hit.path === '/landing').length
  // In browsers a redirect the pipeline asked to see is opaque (status 0): nothing is followed.
  const opaque = cell.browser && cell.mode === 'static'
  if (opaque) {
    check(landed === 0, 'redirect: followed although the request asked for a manual redirect')
    check(statuses('redirect')[0] !== 200, 'redirect: an opaque redirect answered 200')
  } else {
    check(landed === 1, `redirect: the foreign origin got ${landed} requests, expected 1`)
    allOk('redirect', 1)
  }

  // A redirecting token endpoint: refused with a clear error; its Location never reached.
  if (cell.mode === 'bearer') {
    const error = result.tokenRedirect
    check(moved.movedRequests === 1, `token redirect: ${moved.movedRequests} token requests`)
    check(moved.movedLandings === 0, 'token redirect: the token request followed the redirect')
    const status = cell.browser ? undefined : 302
    check(
      error?.name === 'TokenEndpointError' &&
        error.code === 'http_error' &&
        error.status === status &&
        (error.message ?? '').startsWith(`The token endpoint at ${tokenOrigin} answered`),
      `token redirect: got ${JSON.stringify(error)}`,
    )
    const message = error?.message ?? ''
    for (const word of ['/moved', 'tenant', 'token-landing', SECRET]) {
      check(!message.includes(word), `token redirect: the message names "${word}"`)
    }
  }
  return { tokens, problems }
}
