/**
 * The clients again, but on an in-process transport (an axios adapter, a fetch function or an
 * undici dispatcher that answers at once, no sockets): what remains is the client's own work
 * per request. Used for the CPU cost per request (scenario 2c), which a busy machine disturbs
 * far less than throughput, and for heap growth over 10⁵ requests (scenario 4).
 */
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials, createTokenManager, type TokenManager } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOAuthOptions } from '@oauth-interceptors/ky'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import { oauthInterceptor as undiciOAuthInterceptor } from '@oauth-interceptors/undici'
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'
import { clientCredentials as axiosOauthClientCredentials } from 'axios-oauth-client'
import tokenProvider from 'axios-token-interceptor'
import ky from 'ky'
import { ofetch } from 'ofetch'
import { Dispatcher } from 'undici'
import { fakeJwt, TOKEN_URL, tokenEndpointFetch } from './fake-endpoint'

export const API = 'https://api.example.test'

/** One request; resolves when the client has handed back the response. */
export type Send = () => Promise<unknown>

export interface InProcessSpec {
  name: string
  ours: boolean
  base: string
  /** The client under test; ours take the token manager to use (default: a Bearer one). */
  create(tokens?: TokenManager): { send: Send }
  /** The same client sending a fixed header. */
  bare(): { send: Send }
}

const BODY = '{"ok":true}'

/**
 * A fetch that answers 200 to any request without touching the network. It builds the Request
 * as a real fetch does first, so a client passing plain headers pays for their conversion too.
 */
const apiFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  void new Request(input, init)
  return new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } })
}

/**
 * Answers every request (the token request too) at once, the way axios' http adapter would. It
 * carries the http adapter's name, so an interceptor takes the path it takes in Node (where
 * follow-redirects' `beforeRedirect` runs), not the one for adapters whose redirects it holds.
 */
const apiAdapter: AxiosAdapter = Object.assign(
  async (config: Parameters<AxiosAdapter>[0]) => ({
    data: config.url?.includes('/token')
      ? { access_token: fakeJwt(), token_type: 'Bearer', expires_in: 3600 }
      : { ok: true },
    status: 200,
    statusText: 'OK',
    headers: {},
    config,
    request: {},
  }),
  { adapterName: 'http' },
)

/**
 * An undici dispatcher that answers every request at once with the handler API of
 * `Dispatcher#compose()`, as an Agent would after its socket work: the in-process transport of
 * the undici rows.
 */
class AnsweringDispatcher extends Dispatcher {
  override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    const controller: Dispatcher.DispatchController = {
      aborted: false,
      paused: false,
      reason: null,
      abort: () => {},
      pause: () => {},
      resume: () => {},
    }
    // Later, as a socket would answer: fetch sets up its side after dispatch() returns.
    queueMicrotask(() => {
      handler.onRequestStart?.(controller, {})
      handler.onResponseStart?.(controller, 200, { 'content-type': 'application/json' }, 'OK')
      handler.onResponseData?.(controller, Buffer.from(BODY))
      handler.onResponseEnd?.(controller, {})
    })
    return true
  }
  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}

/**
 * Node's fetch through `dispatcher`. Both sides are composed, the bare one with an interceptor
 * that only passes the request on: compose wraps fetch's handler for the handler API either way,
 * so the difference is the OAuth interceptor's own work.
 */
function viaDispatcher(dispatcher: Dispatcher, headers?: Record<string, string>): Send {
  const init = { dispatcher, headers } as RequestInit
  return () => fetch(`${API}/data`, init).then((response) => response.text())
}

function manager(): TokenManager {
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'id', clientSecret: 'secret' }),
    fetch: tokenEndpointFetch,
  })
}

const fixed = () => ({ authorization: `Bearer ${fakeJwt()}` })
const axiosSend =
  (api: AxiosInstance): Send =>
  () =>
    api.get('/data')

export const inProcessSpecs: InProcessSpec[] = [
  {
    name: '@oauth-interceptors/axios',
    ours: true,
    base: 'axios',
    create(tokens = manager()) {
      const api = axios.create({ baseURL: API, adapter: apiAdapter })
      oauthInterceptor(tokens).attach(api)
      return { send: axiosSend(api) }
    },
    bare: () => ({
      send: axiosSend(axios.create({ baseURL: API, adapter: apiAdapter, headers: fixed() })),
    }),
  },
  {
    name: '@oauth-interceptors/ky',
    ours: true,
    base: 'ky',
    create(tokens = manager()) {
      const api = ky.create({
        prefixUrl: API,
        ...kyOAuthOptions({ manager: tokens, origins: API }, { fetch: apiFetch }),
      })
      return { send: () => api.get('data').text() }
    },
    bare() {
      const api = ky.create({ prefixUrl: API, fetch: apiFetch, headers: fixed() })
      return { send: () => api.get('data').text() }
    },
  },
  {
    name: '@oauth-interceptors/ofetch',
    ours: true,
    base: 'ofetch',
    create(tokens = manager()) {
      const api = ofetch.create(oauthOptions(tokens, { baseURL: API }), { fetch: apiFetch })
      return { send: () => api('/data') }
    },
    bare() {
      const api = ofetch.create({ baseURL: API, headers: fixed() }, { fetch: apiFetch })
      return { send: () => api('/data') }
    },
  },
  {
    name: '@oauth-interceptors/fetch',
    ours: true,
    base: 'fetch',
    create(tokens = manager()) {
      const authedFetch = oauthFetch(tokens, { fetch: apiFetch, baseUrl: API })
      return { send: () => authedFetch(`${API}/data`).then((response) => response.text()) }
    },
    bare() {
      const init = { headers: fixed() }
      return { send: () => apiFetch(`${API}/data`, init).then((response) => response.text()) }
    },
  },
  {
    name: '@oauth-interceptors/undici',
    ours: true,
    base: 'fetch (undici 7 Agent)',
    create(tokens = manager()) {
      const dispatcher = new AnsweringDispatcher().compose(
        undiciOAuthInterceptor({ manager: tokens, origins: [API] }),
      )
      return { send: viaDispatcher(dispatcher) }
    },
    bare() {
      const dispatcher = new AnsweringDispatcher().compose((dispatch) => dispatch)
      return { send: viaDispatcher(dispatcher, fixed()) }
    },
  },
  {
    name: 'axios-auth-refresh 5',
    ours: false,
    base: 'axios',
    create() {
      const api = axios.create({ baseURL: API, adapter: apiAdapter })
      const stored = fakeJwt()
      api.interceptors.request.use((request) => {
        request.headers.Authorization = `Bearer ${stored}`
        return request
      })
      createAuthRefresh(api, () => Promise.resolve())
      return { send: axiosSend(api) }
    },
    bare: () => ({
      send: axiosSend(axios.create({ baseURL: API, adapter: apiAdapter, headers: fixed() })),
    }),
  },
  {
    name: '@badgateway/oauth2-client 3 (OAuth2Fetch)',
    ours: false,
    base: 'fetch',
    create() {
      const client = new OAuth2Client({
        server: TOKEN_URL,
        clientId: 'id',
        fetch: tokenEndpointFetch,
      })
      const wrapper = new OAuth2Fetch({
        client,
        getNewToken: () => ({ accessToken: fakeJwt(), refreshToken: null, expiresAt: null }),
      })
      // wrapper.fetch() is `mw()(new Request(input, init), req => fetch(req))` with the global fetch.
      const mw = wrapper.mw()
      return {
        send: () => mw(new Request(`${API}/data`), apiFetch).then((response) => response.text()),
      }
    },
    bare() {
      const init = { headers: fixed() }
      return { send: () => apiFetch(`${API}/data`, init).then((response) => response.text()) }
    },
  },
  {
    name: 'axios-oauth-client 2',
    ours: false,
    base: 'axios',
    create() {
      const getClientCredentials = axiosOauthClientCredentials(
        axios.create({ adapter: apiAdapter }),
        TOKEN_URL,
        'id',
        'secret',
      )
      const api = axios.create({ baseURL: API, adapter: apiAdapter })
      api.interceptors.request.use(async (config) => {
        const auth = (await getClientCredentials(undefined)) as { access_token: string }
        config.headers.Authorization = `Bearer ${auth.access_token}`
        return config
      })
      return { send: axiosSend(api) }
    },
    bare: () => ({
      send: axiosSend(axios.create({ baseURL: API, adapter: apiAdapter, headers: fixed() })),
    }),
  },
  {
    name: 'axios-token-interceptor 0.2',
    ours: false,
    base: 'axios',
    create() {
      const api = axios.create({ baseURL: API, adapter: apiAdapter })
      const cache = tokenProvider.tokenCache(
        () =>
          tokenEndpointFetch().then(
            (response) => response.json() as Promise<{ access_token: string; expires_in: number }>,
          ),
        { getMaxAge: (body) => body.expires_in * 1000 },
      )
      api.interceptors.request.use(
        tokenProvider({
          getToken: cache,
          headerFormatter: (body) => `Bearer ${body.access_token}`,
        }),
      )
      return { send: axiosSend(api) }
    },
    bare: () => ({
      send: axiosSend(axios.create({ baseURL: API, adapter: apiAdapter, headers: fixed() })),
    }),
  },
]

/**
 * Diagnostic: ky with the least a refresh-on-401 needs (a beforeRequest hook and a no-op
 * afterResponse hook). ky clones the response for every afterResponse hook.
 */
export const kyNoopHooks: InProcessSpec = {
  name: 'diagnostic: ky + minimal token hook + no-op afterResponse',
  ours: false,
  base: 'ky',
  create() {
    const tokens = manager()
    const api = ky.create({
      prefixUrl: API,
      fetch: apiFetch,
      hooks: {
        beforeRequest: [
          async (request) => {
            const { accessToken } = await tokens.getToken()
            request.headers.set('authorization', `Bearer ${accessToken}`)
          },
        ],
        afterResponse: [async () => undefined],
      },
    })
    return { send: () => api.get('data').text() }
  },
  bare() {
    const api = ky.create({ prefixUrl: API, fetch: apiFetch, headers: fixed() })
    return { send: () => api.get('data').text() }
  },
}

/** Runs `count` sends, `concurrency` at a time. */
export async function sendMany(send: Send, count: number, concurrency: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      await send()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
