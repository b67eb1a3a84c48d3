/**
 * Every client in the benchmark, each set up the way its README shows, and the bare client it
 * is compared with (the same HTTP client sending a fixed, valid `Authorization` header).
 */
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials as ourClientCredentials } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOAuthOptions } from '@oauth-interceptors/ky'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import { oauthInterceptor as undiciOAuthInterceptor } from '@oauth-interceptors/undici'
import axios, { type AxiosInstance, isAxiosError } from 'axios'
import { createAuthRefresh } from 'axios-auth-refresh'
import { clientCredentials } from 'axios-oauth-client'
import tokenProvider from 'axios-token-interceptor'
import ky, { type KyInstance } from 'ky'
import { type $Fetch, ofetch } from 'ofetch'
import { Agent, getGlobalDispatcher, setGlobalDispatcher, fetch as undiciFetch } from 'undici'
import { createOidcInterceptor } from 'undici-oidc-interceptor'
import type { Env } from './server-control'

/** One configured client. `get` resolves with the final status; it rejects only on failures without one. */
export interface BenchClient {
  get(path: string): Promise<number>
  close?(): Promise<void>
}

export interface ClientSpec {
  /** Row name in the tables. */
  name: string
  ours: boolean
  /** The HTTP client underneath; the bare client of the same name is the baseline. */
  base: BaseName
  /** How it is set up, for RESULTS.md. */
  setup: string
  /** A variant shown in the burst table only. */
  burstsOnly?: boolean
  create(env: Env): BenchClient
}

export type BaseName = 'axios' | 'ky' | 'ofetch' | 'fetch' | 'fetch (undici 7 Agent)'

/** A form body for the peers that leave the token request to the user. */
function tokenForm(env: Env): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: env.clientId,
    client_secret: env.clientSecret,
  })
}

const ourGrant = (env: Env) =>
  ourClientCredentials({
    tokenUrl: env.tokenUrl,
    clientId: env.clientId,
    clientSecret: env.clientSecret,
  })

/** axios rejects on non-2xx; the status is what we count. */
function viaAxios(api: AxiosInstance): BenchClient {
  return {
    get: (path) =>
      api.get(path).then(
        (response) => response.status,
        (error: unknown) => {
          if (isAxiosError(error) && error.response) return error.response.status
          throw error
        },
      ),
  }
}

function viaFetch(
  send: (url: string) => Promise<{ status: number; text(): Promise<string> }>,
  env: Env,
): BenchClient {
  return {
    get: async (path) => {
      const response = await send(env.api + path)
      await response.text()
      return response.status
    },
  }
}

/** ky wants paths without the leading slash under a prefixUrl; it throws HTTPError on non-2xx. */
function viaKy(api: KyInstance): BenchClient {
  return {
    get: (path) =>
      api
        .get(path.slice(1))
        .text()
        .then(
          () => 200,
          (error: unknown) => {
            const status = (error as { response?: { status?: unknown } }).response?.status
            if (typeof status === 'number') return status
            throw error
          },
        ),
  }
}

/** ofetch parses the body and throws FetchError (with `status`) on non-2xx. */
function viaOfetch(api: $Fetch): BenchClient {
  return {
    get: (path) =>
      api(path).then(
        () => 200,
        (error: unknown) => {
          const status = (error as { status?: unknown }).status
          if (typeof status === 'number') return status
          throw error
        },
      ),
  }
}

export const ours: ClientSpec[] = [
  {
    name: '@oauth-interceptors/axios',
    ours: true,
    base: 'axios',
    setup: 'oauthInterceptor({ grant: clientCredentials(…) }).attach(axios.create({ baseURL }))',
    create(env) {
      const api = axios.create({ baseURL: env.api })
      oauthInterceptor({ grant: ourGrant(env) }).attach(api)
      return viaAxios(api)
    },
  },
  {
    name: '@oauth-interceptors/ky',
    ours: true,
    base: 'ky',
    setup: 'ky.create({ prefixUrl, ...oauthOptions({ grant: clientCredentials(…), origins }) })',
    create(env) {
      return viaKy(
        ky.create({
          prefixUrl: env.api,
          ...kyOAuthOptions({ grant: ourGrant(env), origins: env.api }),
        }),
      )
    },
  },
  {
    name: '@oauth-interceptors/ofetch',
    ours: true,
    base: 'ofetch',
    setup: 'ofetch.create(oauthOptions({ grant: clientCredentials(…) }, { baseURL }))',
    create(env) {
      return viaOfetch(ofetch.create(oauthOptions({ grant: ourGrant(env) }, { baseURL: env.api })))
    },
  },
  {
    name: '@oauth-interceptors/fetch',
    ours: true,
    base: 'fetch',
    setup: 'oauthFetch({ grant: clientCredentials(…), origins: [api] })',
    create(env) {
      return viaFetch(oauthFetch({ grant: ourGrant(env), origins: [env.api] }), env)
    },
  },
  {
    name: '@oauth-interceptors/undici',
    ours: true,
    base: 'fetch (undici 7 Agent)',
    setup:
      'fetch(url, { dispatcher: new Agent().compose(oauthInterceptor({ grant: clientCredentials(…), origins: [api] })) })',
    create(env) {
      // Through the dispatcher option, as the bare client of this base sends its fixed header,
      // so that the two differ only by the interceptor (the peer's row sets the global one).
      const agent = new Agent()
      const dispatcher = agent.compose(
        undiciOAuthInterceptor({ grant: ourGrant(env), origins: [env.api] }),
      )
      const init = { dispatcher } as RequestInit
      return {
        ...viaFetch((url) => fetch(url, init), env),
        close: () => agent.close(),
      }
    },
  },
]

export const peers: ClientSpec[] = [
  {
    name: 'axios-auth-refresh 5',
    ours: false,
    base: 'axios',
    setup:
      "README: request interceptor sets the Authorization header from getAccessToken(); refreshAuthLogic posts to the token endpoint with the global axios, stores the token and sets it on failedRequest's config; createAuthRefresh(instance, refreshAuthLogic)",
    create(env) {
      const api = axios.create({ baseURL: env.api })
      // README: "localStorage.getItem('token')"; a variable in Node.
      let stored: string | undefined
      const getAccessToken = () => stored
      api.interceptors.request.use((request) => {
        request.headers.Authorization = `Bearer ${getAccessToken()}`
        return request
      })
      const refreshAuthLogic = (failedRequest: {
        response: { config: { headers: Record<string, string> } }
      }) =>
        axios.post(env.tokenUrl, tokenForm(env)).then((tokenRefreshResponse) => {
          stored = tokenRefreshResponse.data.access_token
          failedRequest.response.config.headers.Authorization = `Bearer ${stored}`
          return Promise.resolve()
        })
      createAuthRefresh(api, refreshAuthLogic)
      return viaAxios(api)
    },
  },
  {
    name: '@badgateway/oauth2-client 3 (OAuth2Fetch)',
    ours: false,
    base: 'fetch',
    setup:
      'README: new OAuth2Fetch({ client: new OAuth2Client({ server, clientId, clientSecret, tokenEndpoint }), getNewToken: () => client.clientCredentials(), onError }); wrapper.fetch(url)',
    create(env) {
      const client = new OAuth2Client({
        server: new URL(env.tokenUrl).origin,
        clientId: env.clientId,
        clientSecret: env.clientSecret,
        tokenEndpoint: '/token',
      })
      const fetchWrapper = new OAuth2Fetch({
        client,
        getNewToken: () => client.clientCredentials(),
        onError: () => {},
      })
      return viaFetch((url) => fetchWrapper.fetch(url), env)
    },
  },
  {
    name: 'axios-oauth-client 2',
    ours: false,
    base: 'axios',
    setup:
      'README shows only the token getter clientCredentials(axios.create(), tokenUrl, id, secret); it is called in a request interceptor (the library has no cache or interceptor)',
    create(env) {
      const getClientCredentials = clientCredentials(
        axios.create(),
        env.tokenUrl,
        env.clientId,
        env.clientSecret,
      )
      const api = axios.create({ baseURL: env.api })
      api.interceptors.request.use(async (config) => {
        const auth = (await getClientCredentials(undefined)) as { access_token: string }
        config.headers.Authorization = `Bearer ${auth.access_token}`
        return config
      })
      return viaAxios(api)
    },
  },
  {
    name: 'axios-token-interceptor 0.2',
    ours: false,
    base: 'axios',
    setup:
      "README: tokenProvider({ getToken: tokenProvider.tokenCache(() => getTokenFromAuthorizationServer().then(res => res.data), { getMaxAge: body => body.expires_in * 1000 }), headerFormatter: body => 'Bearer ' + body.access_token })",
    create(env) {
      const api = axios.create({ baseURL: env.api })
      const getTokenFromAuthorizationServer = () => axios.post(env.tokenUrl, tokenForm(env))
      const cache = tokenProvider.tokenCache(
        () =>
          getTokenFromAuthorizationServer().then(
            (res) => res.data as { access_token: string; expires_in: number },
          ),
        { getMaxAge: (body) => body.expires_in * 1000 },
      )
      api.interceptors.request.use(
        tokenProvider({
          getToken: cache,
          headerFormatter: (body) => `Bearer ${body.access_token}`,
        }),
      )
      return viaAxios(api)
    },
  },
  {
    name: 'undici-oidc-interceptor 0.6',
    ours: false,
    base: 'fetch (undici 7 Agent)',
    setup:
      "README: new Agent().compose(createOidcInterceptor({ clientId, clientSecret, idpTokenUrl, retryOnStatusCodes: [401], urls: [api origin] })); as in its examples/client.mjs, setGlobalDispatcher(dispatcher) and the global fetch (restored after its runs). Its 401 retry dispatches through the global dispatcher, so it fails with Node's built-in one",
    create(env) {
      const agent = new Agent()
      const dispatcher = agent.compose(
        createOidcInterceptor({
          clientId: env.clientId,
          clientSecret: env.clientSecret,
          idpTokenUrl: env.tokenUrl,
          retryOnStatusCodes: [401],
          urls: [env.api],
        }),
      )
      const previous = getGlobalDispatcher()
      setGlobalDispatcher(dispatcher)
      return {
        ...viaFetch((url) => fetch(url), env),
        close: async () => {
          setGlobalDispatcher(previous)
          await agent.close()
        },
      }
    },
  },
  {
    name: 'undici-oidc-interceptor 0.6, README snippet only',
    ours: false,
    base: 'fetch (undici 7 Agent)',
    burstsOnly: true,
    setup:
      "The README's snippet without the example's setGlobalDispatcher: the composed dispatcher passed to undici's fetch",
    create(env) {
      const agent = new Agent()
      const dispatcher = agent.compose(
        createOidcInterceptor({
          clientId: env.clientId,
          clientSecret: env.clientSecret,
          idpTokenUrl: env.tokenUrl,
          retryOnStatusCodes: [401],
          urls: [env.api],
        }),
      )
      return {
        ...viaFetch((url) => undiciFetch(url, { dispatcher }), env),
        close: () => agent.close(),
      }
    },
  },
]

/** The same HTTP client with a fixed, valid header: the baseline of the overhead ratios. */
export function bare(base: BaseName, env: Env, token: string): BenchClient {
  const headers = { authorization: `Bearer ${token}` }
  switch (base) {
    case 'axios':
      return viaAxios(axios.create({ baseURL: env.api, headers }))
    case 'ky':
      return viaKy(ky.create({ prefixUrl: env.api, headers }))
    case 'ofetch':
      return viaOfetch(ofetch.create({ baseURL: env.api, headers }))
    case 'fetch':
      return viaFetch((url) => fetch(url, { headers }), env)
    case 'fetch (undici 7 Agent)': {
      // An explicit dispatcher, so the baseline is unaffected by the global one.
      const agent = new Agent()
      const init = { headers, dispatcher: agent } as RequestInit
      return {
        ...viaFetch((url) => fetch(url, init), env),
        close: () => agent.close(),
      }
    }
  }
}
