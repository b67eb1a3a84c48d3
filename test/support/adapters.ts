import { oauthInterceptor } from '@oauth-interceptors/axios'
import {
  type AuthConfig,
  isOAuthInterceptorsError,
  type OAuthInterceptorsError,
} from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOAuthOptions } from '@oauth-interceptors/ky'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import axios, { isAxiosError } from 'axios'
import ky from 'ky'
import { FetchError, ofetch } from 'ofetch'

/** What one request came back with. HTTP errors resolve; anything else rejects. */
export interface Reply {
  status: number
  body: unknown
}

/** The same few calls, made through each adapter with its client as users write it. */
export interface TestClient {
  get(path: string): Promise<Reply>
  post(path: string, json: unknown): Promise<Reply>
}

export interface AdapterCase {
  readonly name: 'axios' | 'ky' | 'ofetch' | 'fetch'
  /** A client of the API at `baseUrl`, authorized per `config`; `headers` go on every request. */
  create(config: AuthConfig, baseUrl: string, headers?: Record<string, string>): TestClient
}

const axiosCase: AdapterCase = {
  name: 'axios',
  create(config, baseUrl, headers = {}) {
    const api = axios.create({ baseURL: baseUrl, headers })
    oauthInterceptor(config).attach(api)
    const settle = async (call: Promise<{ status: number; data: unknown }>) => {
      try {
        const { status, data } = await call
        return { status, body: data }
      } catch (error) {
        if (isAxiosError(error) && error.response) {
          return { status: error.response.status, body: error.response.data }
        }
        throw error
      }
    }
    return {
      get: (path) => settle(api.get(path)),
      post: (path, json) => settle(api.post(path, json)),
    }
  },
}

const kyCase: AdapterCase = {
  name: 'ky',
  create(config, baseUrl, headers = {}) {
    // ky cannot show the adapter its prefixUrl, so the allowed origin is named (AuthConfig variants all take it).
    const api = ky.create({
      prefixUrl: baseUrl,
      headers,
      ...kyOAuthOptions(withOrigin(config, baseUrl)),
      retry: 0,
      throwHttpErrors: false,
    })
    const settle = async (response: Promise<Response>) => {
      const reply = await response
      const text = await reply.text()
      return { status: reply.status, body: text ? (JSON.parse(text) as unknown) : undefined }
    }
    return {
      get: (path) => settle(api.get(path.replace(/^\//, ''))),
      post: (path, json) => settle(api.post(path.replace(/^\//, ''), { json })),
    }
  },
}

/** `config` with `origins` set to `baseUrl`'s origin unless it names its own. */
function withOrigin(config: AuthConfig, baseUrl: string): AuthConfig {
  if ('getToken' in config) return { manager: config, origins: new URL(baseUrl).origin }
  return { origins: new URL(baseUrl).origin, ...config } as AuthConfig
}

const ofetchCase: AdapterCase = {
  name: 'ofetch',
  create(config, baseUrl, headers = {}) {
    const api = ofetch.create(oauthOptions(config, { baseURL: baseUrl, headers, retry: 0 }))
    const settle = async (call: Promise<{ status: number; _data?: unknown }>) => {
      try {
        const response = await call
        return { status: response.status, body: response._data }
      } catch (error) {
        if (error instanceof FetchError && error.response) {
          return { status: error.response.status, body: error.data }
        }
        throw error
      }
    }
    return {
      get: (path) => settle(api.raw(path)),
      post: (path, json) => settle(api.raw(path, { method: 'POST', body: json as object })),
    }
  },
}

const fetchCase: AdapterCase = {
  name: 'fetch',
  create(config, baseUrl, headers = {}) {
    const authedFetch = oauthFetch(config, { baseUrl })
    const settle = async (response: Promise<Response>) => {
      const reply = await response
      const text = await reply.text()
      return { status: reply.status, body: text ? (JSON.parse(text) as unknown) : undefined }
    }
    return {
      get: (path) => settle(authedFetch(new URL(path, baseUrl), { headers })),
      post: (path, json) =>
        settle(
          authedFetch(new URL(path, baseUrl), {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(json),
          }),
        ),
    }
  },
}

/** Every adapter, for `describe.each`. */
export const adapters: readonly AdapterCase[] = [axiosCase, kyCase, ofetchCase, fetchCase]

/** The library error at the root of what a client threw (clients may wrap it). */
export function libraryError(error: unknown): OAuthInterceptorsError | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isOAuthInterceptorsError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
