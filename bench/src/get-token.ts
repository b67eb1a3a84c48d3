/**
 * Scenario 2b: what a cached token costs per request, in ns/op (tinybench). Each sample runs
 * the operation 1,000 times so the timer's own cost is spread thin.
 */
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { clientCredentials, createTokenManager, type Token } from '@oauth-interceptors/core'
import { createRequestPolicy } from '@oauth-interceptors/core/adapter'
import axios, { AxiosHeaders } from 'axios'
import tokenProvider from 'axios-token-interceptor'
import { Bench } from 'tinybench'
import { TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'

export interface GetTokenResult {
  name: string
  ours: boolean
  /** Median ns per operation. */
  ns: number
  /** Relative margin of error of the mean, in %. */
  rme: number
}

const INNER = 1_000

export async function runGetToken(options: { timeMs: number }): Promise<GetTokenResult[]> {
  const grant = clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'id', clientSecret: 'secret' })
  const manager = createTokenManager({ grant, fetch: tokenEndpointFetch })
  await manager.getToken()
  await manager.getToken({ scope: 'read' })
  // One key only: the common case (a scope per call adds a key).
  const single = createTokenManager({ grant, fetch: tokenEndpointFetch })
  await single.getToken()
  const singlePolicy = createRequestPolicy(single, { baseUrl: 'https://api.example.test' })
  // What @oauth-interceptors/axios calls per request to find the URL (see RESULTS.md notes).
  const instance = axios.create({ baseURL: 'https://api.example.test' })
  const config = {
    url: '/data',
    method: 'get',
    baseURL: 'https://api.example.test',
    headers: new AxiosHeaders(),
  }

  // Peers' cached-token calls, warmed the same way.
  const oauth2 = new OAuth2Fetch({
    client: new OAuth2Client({ server: TOKEN_URL, clientId: 'id', fetch: tokenEndpointFetch }),
    getNewToken: () => ({ accessToken: 'x'.repeat(260), refreshToken: null, expiresAt: null }),
  })
  await oauth2.getAccessToken()
  const tokenCache = tokenProvider.tokenCache(
    () => tokenEndpointFetch().then((response) => response.json() as Promise<unknown>),
    { maxAge: 3_600_000 },
  )
  await tokenCache()

  let sink: unknown
  const bench = new Bench({ time: options.timeMs, warmupTime: Math.min(200, options.timeMs / 4) })
  const tasks: { name: string; ours: boolean }[] = []
  const add = (name: string, ours: boolean, fn: () => unknown) => {
    tasks.push({ name, ours })
    bench.add(name, fn)
  }
  add('core: tokens.getToken() (cached, 1 key; the call)', true, () => {
    for (let i = 0; i < INNER; i++) sink = single.getToken()
  })
  add('core: await tokens.getToken() (cached, 1 key)', true, async () => {
    for (let i = 0; i < INNER; i++) sink = await single.getToken()
  })
  add('core: tokens.getToken() (cached, 2 keys in the cache; the call)', true, () => {
    for (let i = 0; i < INNER; i++) sink = manager.getToken()
  })
  add("core: tokens.getToken({ scope: 'read' }) (cached; the call)", true, () => {
    for (let i = 0; i < INNER; i++) sink = manager.getToken({ scope: 'read' })
  })
  add('core: await exchange.credentials() (what adapters call per request)', true, async () => {
    for (let i = 0; i < INNER; i++) {
      sink = await singlePolicy.exchange('https://api.example.test/data')?.credentials()
    }
  })
  add('floor: await Promise.resolve(token)', false, async () => {
    const token: Promise<Token> = manager.getToken()
    for (let i = 0; i < INNER; i++) sink = await Promise.resolve(token)
  })
  add('@badgateway OAuth2Fetch: await getAccessToken() (cached)', false, async () => {
    for (let i = 0; i < INNER; i++) sink = await oauth2.getAccessToken()
  })
  add('axios-token-interceptor: await tokenCache() (cached)', false, async () => {
    for (let i = 0; i < INNER; i++) sink = await tokenCache()
  })
  add('diagnostic: axios instance.getUri(config)', false, () => {
    for (let i = 0; i < INNER; i++) sink = instance.getUri(config)
  })
  await bench.run()
  void sink

  return bench.tasks.map((task, index) => {
    const result = task.result
    const info = tasks[index] as { name: string; ours: boolean }
    if (!('latency' in result)) return { ...info, ns: Number.NaN, rme: Number.NaN }
    return { ...info, ns: (result.latency.p50 * 1e6) / INNER, rme: result.latency.rme }
  })
}
