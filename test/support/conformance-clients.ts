import { Agent as HttpsAgent } from 'node:https'
import { Readable } from 'node:stream'
import { oauthInterceptor } from '@oauth-interceptors/axios'
import type { AuthConfig, TokenOptions } from '@oauth-interceptors/core'
import { type OAuthRequestInit, oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOAuthOptions } from '@oauth-interceptors/ky'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import { oauthInterceptor as undiciInterceptor } from '@oauth-interceptors/undici'
import axios, { isAxiosError, isCancel } from 'axios'
import ky1, { HTTPError as Ky1HTTPError, TimeoutError as Ky1TimeoutError } from 'ky'
import ky114, { HTTPError as Ky114HTTPError, TimeoutError as Ky114TimeoutError } from 'ky-1.14'
import ky2, { HTTPError as Ky2HTTPError, TimeoutError as Ky2TimeoutError } from 'ky2'
import { FetchError, ofetch } from 'ofetch'
import * as undici7 from 'undici'
import * as undici8 from 'undici8'

/** The request bodies every client can send, each made fresh per call (streams are one-shot). */
export const BODIES = {
  json: { make: () => ({ qty: 2 }), received: /^\{"qty":2\}$/ },
  string: { make: () => 'plain text', received: /^plain text$/ },
  params: { make: () => new URLSearchParams({ a: '1', b: '2' }), received: /^a=1&b=2$/ },
  form: {
    make() {
      const form = new FormData()
      form.append('name', 'report')
      form.append('file', new Blob(['a,b\n1,2'], { type: 'text/csv' }), 'report.csv')
      return form
    },
    received: /name="name"\r\n\r\nreport\r\n[\s\S]*filename="report.csv"[\s\S]*a,b\n1,2/,
  },
  blob: { make: () => new Blob(['blob body'], { type: 'text/plain' }), received: /^blob body$/ },
  bytes: { make: () => new TextEncoder().encode('byte body'), received: /^byte body$/ },
  stream: {
    make: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of ['stream ', 'body'])
            controller.enqueue(new TextEncoder().encode(chunk))
          controller.close()
        },
      }),
    received: /^stream body$/,
  },
} as const

export type BodyKind = keyof typeof BODIES

/** One call, in the same words for every client. */
export interface SendOptions {
  /** @default 'GET' */
  method?: string
  /** A path on the client's base URL, e.g. `/me`. */
  path?: string
  /** An absolute URL instead (another origin, the token endpoint). */
  url?: string
  headers?: Record<string, string>
  body?: BodyKind
  signal?: AbortSignal
  /** The client's own timeout in ms (fetch: `AbortSignal.timeout`). */
  timeout?: number
  skipAuth?: boolean
  /** The request's own token options (a subject token to exchange, a scope…). */
  tokenOptions?: TokenOptions
  /** The client's own retry count, where it has one (ky, ofetch). */
  retry?: number
}

/** What a call came back with. Anything but an HTTP response rejects, as the client rejects it. */
export interface Reply {
  status: number
  body: unknown
  /** Whether the client rejected with its own HTTP error (axios, ky, ofetch by default). */
  asError: boolean
}

export interface Client {
  send(options: SendOptions): Promise<Reply>
}

/** A client certificate for mutual TLS, and the CA the client trusts for the server's. */
export interface ClientTls {
  /** The client certificate (PEM). */
  cert: string
  /** Its private key (PEM). */
  key: string
  /** The certificate authority (PEM) of the server's certificate. */
  ca: string
}

/** The options every row's `create` takes. */
export interface CreateOptions {
  baseUrl: string
  headers?: Record<string, string>
  /** Present this client certificate, the way users of the client give one. @default none */
  tls?: ClientTls
}

/**
 * A fetch that presents `tls` through an undici Agent, as Node's fetch takes one (its
 * `dispatcher`); the platform fetch when there is no `tls`.
 */
function tlsFetch(tls: ClientTls | undefined): typeof fetch | undefined {
  if (!tls) return undefined
  const dispatcher = new undici7.Agent({ connect: tls })
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit)
}

/** One HTTP client with its adapter: a row of the conformance table. */
export interface ClientRow {
  name: string
  family: 'axios' | 'ky' | 'ofetch' | 'fetch' | 'undici'
  /** Whether, with default settings, a 4xx rejects with the client's own error. */
  throwsHttpErrors: boolean
  /**
   * A client of the API at `baseUrl`, as users write it with the client's default settings,
   * authorized per `config`; `headers` are the client's own headers on every request.
   */
  create(config: AuthConfig, options: CreateOptions): Client
  /** Whether `error` is how this client rejects an aborted call. */
  isAbort(error: unknown): boolean
  /** Whether `error` is how this client rejects a call that ran out of its own timeout. */
  isTimeout(error: unknown): boolean
}

const nameOf = (error: unknown) => (error as { name?: unknown } | undefined)?.name

/** `value` without its undefined members, so they do not override a client's defaults. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** A response body as JSON when it is JSON, else its text; undefined when empty or unreadable. */
async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '')
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const axiosRow: ClientRow = {
  name: 'axios',
  family: 'axios',
  throwsHttpErrors: true,
  create(config, { baseUrl, headers, tls }) {
    const api = axios.create({
      baseURL: baseUrl,
      ...defined({ headers, httpsAgent: tls && new HttpsAgent(tls) }),
    })
    oauthInterceptor(config).attach(api)
    return {
      async send({ method = 'GET', path, url, headers, body, signal, timeout, ...call }) {
        const { skipAuth, tokenOptions } = call
        // In Node, axios streams Node streams (it rejects a web ReadableStream).
        const data =
          body === 'stream' ? Readable.from(['stream ', 'body']) : body && BODIES[body].make()
        try {
          const response = await api.request({
            method,
            url: url ?? path ?? '/',
            ...defined({ headers, data, signal, timeout, skipAuth, tokenOptions }),
          })
          return { status: response.status, body: response.data, asError: false }
        } catch (error) {
          if (isAxiosError(error) && error.response) {
            return { status: error.response.status, body: error.response.data, asError: true }
          }
          throw error
        }
      },
    }
  },
  isAbort: (error) => isCancel(error),
  isTimeout: (error) =>
    isAxiosError(error) && (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT'),
}

/** The part of ky (1 or 2) the rows drive. */
interface KyVersion {
  ky: { create(options: object): (input: string, options?: object) => Promise<Response> }
  HTTPError: abstract new (...args: never[]) => Error & { response: Response; data?: unknown }
  TimeoutError: abstract new (...args: never[]) => Error
  /** The base URL option users write: ky 1's `prefixUrl`, ky 2's `baseUrl`. */
  base: 'prefixUrl' | 'baseUrl'
}

function kyRow(name: string, version: KyVersion): ClientRow {
  const { ky, HTTPError, TimeoutError, base } = version
  return {
    name,
    family: 'ky',
    throwsHttpErrors: true,
    create(config, { baseUrl, headers, tls }) {
      // The adapter takes ky's fetch, as it sends through it.
      const api = ky.create({
        [base]: baseUrl,
        ...defined({ headers }),
        ...kyOAuthOptions(config, { [base]: baseUrl, ...defined({ fetch: tlsFetch(tls) }) }),
      })
      return {
        async send({
          method = 'GET',
          path = '',
          url,
          headers,
          body,
          signal,
          timeout,
          skipAuth,
          tokenOptions,
          retry,
        }) {
          const payload =
            body === 'json' ? { json: BODIES.json.make() } : body && { body: BODIES[body].make() }
          // ky 1 joins `prefixUrl` to any input, absolute ones too: an absolute URL goes without it.
          const input = url ?? path.replace(/^\//, '')
          const options = {
            method,
            ...(url && base === 'prefixUrl' && { prefixUrl: '' }),
            ...payload,
            ...defined({ headers, signal, timeout, skipAuth, tokenOptions, retry }),
          }
          try {
            const response = await api(input, options)
            return { status: response.status, body: await readBody(response), asError: false }
          } catch (error) {
            if (!(error instanceof HTTPError)) throw error
            const data = error.data ?? (await readBody(error.response))
            return { status: error.response.status, body: data, asError: true }
          }
        },
      }
    },
    isAbort: (error) => nameOf(error) === 'AbortError',
    isTimeout: (error) => error instanceof TimeoutError,
  }
}

const ofetchRow: ClientRow = {
  name: 'ofetch',
  family: 'ofetch',
  throwsHttpErrors: true,
  create(config, { baseUrl, headers, tls }) {
    const api = ofetch.create(
      oauthOptions(config, {
        baseURL: baseUrl,
        ...defined({ headers, dispatcher: tls && new undici7.Agent({ connect: tls }) }),
      }),
    )
    return {
      async send({ method = 'GET', path, url, headers, body, signal, timeout, ...call }) {
        const { skipAuth, tokenOptions, retry } = call
        const payload = body && (BODIES[body].make() as BodyInit | Record<string, unknown>)
        try {
          const response = await api.raw(url ?? path ?? '/', {
            method,
            ...defined({ headers, body: payload, signal, timeout, skipAuth, tokenOptions, retry }),
          })
          return { status: response.status, body: response._data, asError: false }
        } catch (error) {
          if (error instanceof FetchError && error.response) {
            return { status: error.response.status, body: error.data, asError: true }
          }
          throw error
        }
      },
    }
  },
  // ofetch wraps fetch's errors in a FetchError whose cause is fetch's error.
  isAbort: (error) =>
    nameOf(error) === 'AbortError' ||
    (error instanceof FetchError && nameOf(error.cause) === 'AbortError'),
  isTimeout: (error) =>
    nameOf(error) === 'TimeoutError' ||
    (error instanceof FetchError &&
      (nameOf(error.cause) === 'TimeoutError' || /timeout/i.test(error.message))),
}

const fetchRow: ClientRow = {
  name: 'fetch',
  family: 'fetch',
  throwsHttpErrors: false,
  create(config, { baseUrl, headers: clientHeaders, tls }) {
    const authedFetch = oauthFetch(config, { baseUrl, ...defined({ fetch: tlsFetch(tls) }) })
    return {
      async send({ method = 'GET', path, url, headers, body, signal, timeout, ...call }) {
        const { skipAuth, tokenOptions } = call
        const init: OAuthRequestInit & { duplex?: 'half' } = {
          method,
          headers: { ...clientHeaders, ...headers },
        }
        if (body === 'json') {
          init.body = JSON.stringify(BODIES.json.make())
          init.headers = { ...init.headers, 'content-type': 'application/json' }
        } else if (body) {
          init.body = BODIES[body].make()
          if (body === 'stream') init.duplex = 'half'
        }
        const signals = [signal, timeout === undefined ? undefined : AbortSignal.timeout(timeout)]
        const present = signals.filter((s): s is AbortSignal => s !== undefined)
        if (present.length > 0) init.signal = AbortSignal.any(present)
        if (skipAuth !== undefined) init.skipAuth = skipAuth
        if (tokenOptions !== undefined) init.tokenOptions = tokenOptions
        const response = await authedFetch(url ?? new URL(path ?? '/', baseUrl), init)
        return { status: response.status, body: await readBody(response), asError: false }
      },
    }
  },
  isAbort: (error) => nameOf(error) === 'AbortError',
  isTimeout: (error) => nameOf(error) === 'TimeoutError',
}

/**
 * `undici.request` over an Agent composed with the interceptor and undici's redirect interceptor
 * (undici.request follows no redirects without it). A dispatcher has no base URL: the row
 * allows its origin, as users of undici write `origins`.
 */
function undiciRow(name: string, undici: typeof undici7): ClientRow {
  return {
    name,
    family: 'undici',
    throwsHttpErrors: false,
    create(config, { baseUrl, headers: clientHeaders, tls }) {
      const origins = (config as { origins?: unknown }).origins ?? new URL(baseUrl).origin
      const dispatcher = new undici.Agent(tls && { connect: tls }).compose(
        undiciInterceptor({ ...config, origins } as AuthConfig),
        undici.interceptors.redirect({ maxRedirections: 20 }),
      )
      return {
        async send({ method = 'GET', path, url, headers, body, signal, timeout, ...call }) {
          const { skipAuth, tokenOptions } = call
          const all: Record<string, string> = { ...clientHeaders, ...headers }
          let payload: unknown
          if (body === 'json') {
            payload = JSON.stringify(BODIES.json.make())
            all['content-type'] = 'application/json'
          } else if (body === 'params') {
            payload = BODIES.params.make().toString()
            all['content-type'] = 'application/x-www-form-urlencoded'
          } else if (body === 'stream') payload = Readable.from(['stream ', 'body'])
          else if (body === 'form') payload = undiciForm(undici)
          else if (body) payload = BODIES[body].make()
          const signals = [signal, timeout === undefined ? undefined : AbortSignal.timeout(timeout)]
          const present = signals.filter((s): s is AbortSignal => s !== undefined)
          const response = await undici.request(url ?? new URL(path ?? '/', baseUrl), {
            dispatcher,
            method: method as 'GET',
            headers: all,
            ...defined({ body: payload as string, skipAuth, tokenOptions }),
            ...(present.length > 0 && { signal: AbortSignal.any(present) }),
          } as Parameters<typeof undici7.request>[1])
          const text = await response.body.text()
          let parsed: unknown = text || undefined
          try {
            parsed = JSON.parse(text)
          } catch {}
          return { status: response.statusCode, body: parsed, asError: false }
        },
      }
    },
    isAbort: (error) => nameOf(error) === 'AbortError',
    isTimeout: (error) => nameOf(error) === 'TimeoutError',
  }
}

/** BODIES.form in undici's own FormData: undici 7 and 8 cannot send Node 20's global one. */
function undiciForm(undici: typeof undici7): undici7.FormData {
  const form = new undici.FormData()
  form.append('name', 'report')
  form.append('file', new Blob(['a,b\n1,2'], { type: 'text/csv' }), 'report.csv')
  return form
}

/** Every client the adapters serve: a new client gets the whole suite by adding its row. */
export const rows: readonly ClientRow[] = [
  axiosRow,
  kyRow('ky 1 (1.9)', {
    ky: ky1 as unknown as KyVersion['ky'],
    HTTPError: Ky1HTTPError,
    TimeoutError: Ky1TimeoutError,
    base: 'prefixUrl',
  }),
  kyRow('ky 1 (1.14)', {
    ky: ky114 as unknown as KyVersion['ky'],
    HTTPError: Ky114HTTPError,
    TimeoutError: Ky114TimeoutError,
    base: 'prefixUrl',
  }),
  kyRow('ky 2 (2.1)', {
    ky: ky2 as unknown as KyVersion['ky'],
    HTTPError: Ky2HTTPError,
    TimeoutError: Ky2TimeoutError,
    base: 'baseUrl',
  }),
  ofetchRow,
  fetchRow,
  undiciRow('undici 7 (request)', undici7),
  undiciRow('undici 8 (request)', undici8 as unknown as typeof undici7),
]
