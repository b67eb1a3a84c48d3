import { isReplayableBody } from '@oauth-interceptors/core/adapter'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { oauthFetch } from '../src/index'
import { type AuthServers, managerFor, startAuthServers } from './servers'

let servers: AuthServers
beforeAll(async () => {
  servers = await startAuthServers()
})
afterAll(() => servers.close())
afterEach(() => {
  servers.api.seen.length = 0
})

/** A wrapper whose current token the API has just revoked, so its next request gets a 401. */
async function fetchWithRevokedToken(options: { bufferRequestBodies?: boolean } = {}) {
  const fetch = oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin] }, options)
  await fetch(servers.api.url('/data'))
  servers.revokeAll()
  servers.api.seen.length = 0
  return fetch
}

const form = () => {
  const data = new FormData()
  data.append('field', 'form-value')
  return data
}

describe('oauthFetch: bodies on the retry after a 401', () => {
  it.each([
    ['a string', () => 'text-value', 'text-value'],
    ['URLSearchParams', () => new URLSearchParams({ q: 'params-value' }), 'q=params-value'],
    ['a Blob', () => new Blob(['blob-value']), 'blob-value'],
    ['an ArrayBuffer', () => new TextEncoder().encode('buffer-value').buffer, 'buffer-value'],
    ['a Uint8Array', () => new TextEncoder().encode('bytes-value'), 'bytes-value'],
    ['FormData', form, 'form-value'],
  ])('sends %s body again with the new token', async (_name, body, expected) => {
    const fetch = await fetchWithRevokedToken()
    const response = await fetch(servers.api.url('/data'), { method: 'POST', body: body() })
    expect(response.status).toBe(200)
    const sent = servers.api.sentTo('/data')
    expect(sent).toHaveLength(2)
    expect(sent[0]?.body).toContain(expected)
    expect(sent[1]?.body).toContain(expected)
    expect(sent[0]?.headers.authorization).not.toBe(sent[1]?.headers.authorization)
  })

  it('returns the 401 for a ReadableStream body instead of a broken retry; the next request gets a new token', async () => {
    const fetch = await fetchWithRevokedToken()
    const before = servers.tokenRequests()
    const response = await fetch(servers.api.url('/data'), {
      method: 'POST',
      body: new Blob(['streamed']).stream(),
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(401)
    expect(servers.api.sentTo('/data')).toHaveLength(1)
    expect(servers.api.seen[0]?.body).toBe('streamed')

    const next = await fetch(servers.api.url('/data'))
    expect(next.status).toBe(200)
    expect(servers.api.sentTo('/data')).toHaveLength(2)
    expect(servers.tokenRequests() - before).toBe(1)
  })

  it('returns the 401 for a Request with a body (its body is a one-shot stream)', async () => {
    const fetch = await fetchWithRevokedToken()
    const request = new Request(servers.api.url('/data'), { method: 'POST', body: 'once' })
    const response = await fetch(request)
    expect(response.status).toBe(401)
    expect(servers.api.seen).toHaveLength(1)
    expect(servers.api.seen[0]?.body).toBe('once')
  })

  it('with bufferRequestBodies, retries a Request with a body, sending the same bytes and headers', async () => {
    const fetch = await fetchWithRevokedToken({ bufferRequestBodies: true })
    const request = new Request(servers.api.url('/data'), {
      method: 'POST',
      body: JSON.stringify({ item: 'book' }),
      headers: { 'content-type': 'application/json' },
    })

    const response = await fetch(request)

    expect(response.status).toBe(200)
    expect(servers.api.seen.map((seen) => seen.body)).toEqual([
      '{"item":"book"}',
      '{"item":"book"}',
    ])
    expect(servers.api.seen.map((seen) => seen.headers['content-type'])).toEqual([
      'application/json',
      'application/json',
    ])
  })

  it('with bufferRequestBodies, a stream body passed in init is still not replayed', async () => {
    const fetch = await fetchWithRevokedToken({ bufferRequestBodies: true })
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('stream'))
        controller.close()
      },
    })

    const response = await fetch(servers.api.url('/data'), {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit)

    expect(response.status).toBe(401)
    expect(servers.api.seen).toHaveLength(1)
  })

  it('retries a Request without a body', async () => {
    const fetch = await fetchWithRevokedToken()
    const response = await fetch(new Request(servers.api.url('/data')))
    expect(response.status).toBe(200)
    expect(servers.api.seen).toHaveLength(2)
  })

  it('tells replayable bodies from one-shot ones', () => {
    expect(
      ['s', new Uint8Array(1), new ArrayBuffer(1), new Blob([]), form(), null, undefined].map(
        isReplayableBody,
      ),
    ).toEqual(Array(7).fill(true))
    expect(isReplayableBody(new Blob([]).stream())).toBe(false)
  })
})

describe('oauthFetch: abort signals and timeouts', () => {
  it("the caller's signal aborts the wait for a token; nothing is sent to the API", async () => {
    const fetch = oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin] })
    const { arrived, release } = servers.holdTokens()
    const controller = new AbortController()
    const sending = fetch(servers.api.url('/data'), { signal: controller.signal })
    await arrived
    controller.abort()
    await expect(sending).rejects.toMatchObject({ name: 'AbortError' })
    release()
    expect(servers.api.seen).toHaveLength(0)
  })

  it("a Request's own signal aborts the wait for a token", async () => {
    const fetch = oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin] })
    const { arrived, release } = servers.holdTokens()
    const controller = new AbortController()
    const sending = fetch(new Request(servers.api.url('/data'), { signal: controller.signal }))
    await arrived
    controller.abort()
    await expect(sending).rejects.toMatchObject({ name: 'AbortError' })
    release()
    expect(servers.api.seen).toHaveLength(0)
  })

  it("the caller's signal aborts the request in flight", async () => {
    const fetch = oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin] })
    const controller = new AbortController()
    const hung = servers.nextHang()
    const sending = fetch(servers.api.url('/hang'), { signal: controller.signal })
    await hung
    controller.abort()
    await expect(sending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('AbortSignal.timeout() still times the request out', async () => {
    const fetch = oauthFetch({ manager: managerFor(servers), origins: [servers.api.origin] })
    await fetch(servers.api.url('/data'))
    const sending = fetch(servers.api.url('/hang'), { signal: AbortSignal.timeout(50) })
    await expect(sending).rejects.toMatchObject({ name: 'TimeoutError' })
  })
})
