import axios, { AxiosError, CanceledError } from 'axios'
import { describe, expect, it } from 'vitest'
import { oauthInterceptor } from '../src/index'
import { gate, startApi, startServer, startTokenServer } from './helpers'

describe('abort signals and timeouts', () => {
  it('an abort while the API answers rejects with axios CanceledError', async () => {
    const auth = await startTokenServer()
    const held = gate()
    const api = await startServer(async () => {
      await held.opened
      return [200, {}]
    })
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)
    const controller = new AbortController()

    const request = client.get('/slow', { signal: controller.signal })
    await expect.poll(() => api.seen.length).toBe(1)
    controller.abort()

    await expect(request).rejects.toBeInstanceOf(CanceledError)
    held.open()
  })

  it('an abort while waiting for the token rejects with CanceledError and sends nothing', async () => {
    const held = gate()
    const auth = await startTokenServer(async (n) => {
      await held.opened
      return [200, { access_token: `at-${n}`, token_type: 'Bearer' }]
    })
    const api = await startApi(new Set(['at-1']))
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)
    const controller = new AbortController()

    const request = client.get('/x', { signal: controller.signal })
    await expect.poll(() => auth.seen.length).toBe(1)
    controller.abort()

    const error = await request.catch((caught: unknown) => caught)
    expect(axios.isCancel(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_CANCELED' })
    held.open()
    // The shared token request went on and serves the next request.
    await expect(client.get('/y')).resolves.toMatchObject({ status: 200 })
    expect(api.seen.map((seen) => seen.path)).toEqual(['/y'])
    expect(auth.seen).toHaveLength(1)
  })

  it('an abort while refreshing after a 401 rejects with CanceledError, without a retry', async () => {
    const held = gate()
    const auth = await startTokenServer(async (n) => {
      if (n > 1) await held.opened
      return [200, { access_token: `at-${n}`, token_type: 'Bearer' }]
    })
    const api = await startApi(new Set(['at-2']))
    const client = axios.create({ baseURL: api.origin })
    oauthInterceptor({ grant: auth.grant() }).attach(client)
    const controller = new AbortController()

    const request = client.get('/x', { signal: controller.signal })
    await expect.poll(() => auth.seen.length).toBe(2)
    controller.abort()

    await expect(request).rejects.toBeInstanceOf(CanceledError)
    held.open()
    expect(api.seen).toHaveLength(1)
  })

  it("axios' timeout still applies to the request", async () => {
    const auth = await startTokenServer()
    const held = gate()
    const api = await startServer(async () => {
      await held.opened
      return [200, {}]
    })
    const client = axios.create({ baseURL: api.origin, timeout: 50 })
    oauthInterceptor({ grant: auth.grant() }).attach(client)

    const error = await client.get('/slow').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(AxiosError)
    expect(error).toMatchObject({ code: 'ECONNABORTED' })
    expect(api.seen[0]?.headers.authorization).toBe('Bearer at-1')
    held.open()
  })
})
