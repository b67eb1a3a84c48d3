import { oauthInterceptor } from '@oauth-interceptors/axios'
import { clientCredentials, type TokenManagerOptions } from '@oauth-interceptors/core'
import { basicCredentials, type DemoClient } from '@oauth-interceptors/demo-servers'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOAuthOptions } from '@oauth-interceptors/ky'
import { oauthOptions } from '@oauth-interceptors/ofetch'
import axios, { isAxiosError } from 'axios'
import ky from 'ky'
import { ofetch } from 'ofetch'

/** Sends one request and resolves its final HTTP status (after any refresh and retry). */
export type Call = (path: string, body?: unknown) => Promise<number>

export interface Setup {
  /** The protected API, e.g. `http://127.0.0.1:41234`. */
  apiUrl: string
  tokenUrl: string
  /** The resource indicator tokens are asked for (RFC 8707). */
  resource: string
  /** Sent as `x-demo-client`, so the API can count per client. */
  name: string
  client: DemoClient
}

/** Token manager options as a user writes them: client credentials for the API. */
function managerOptions(setup: Setup): TokenManagerOptions {
  return {
    grant: clientCredentials({
      tokenUrl: setup.tokenUrl,
      clientId: setup.client.clientId,
      clientSecret: setup.client.clientSecret,
      clientAuth: setup.client.clientAuth,
      resource: setup.resource,
    }),
  }
}

export function axiosClient(setup: Setup): Call {
  const api = axios.create({ baseURL: setup.apiUrl, headers: { 'x-demo-client': setup.name } })
  oauthInterceptor(managerOptions(setup)).attach(api)
  return async (path, body) => {
    try {
      const response = body === undefined ? await api.get(path) : await api.post(path, body)
      return response.status
    } catch (error) {
      if (isAxiosError(error) && error.response) return error.response.status
      throw error
    }
  }
}

export function kyClient(setup: Setup): Call {
  const api = ky.create({
    prefixUrl: setup.apiUrl,
    headers: { 'x-demo-client': setup.name },
    ...kyOAuthOptions({ ...managerOptions(setup), origins: setup.apiUrl }),
    throwHttpErrors: false,
    retry: 0,
  })
  return async (path, body) => {
    const url = path.replace(/^\//, '')
    const response = body === undefined ? await api.get(url) : await api.post(url, { json: body })
    await response.arrayBuffer()
    return response.status
  }
}

export function ofetchClient(setup: Setup): Call {
  const api = ofetch.create(
    oauthOptions(managerOptions(setup), {
      baseURL: setup.apiUrl,
      headers: { 'x-demo-client': setup.name },
      ignoreResponseError: true,
      retry: 0,
    }),
  )
  return async (path, body) => {
    const response =
      body === undefined ? await api.raw(path) : await api.raw(path, { method: 'POST', body })
    return response.status
  }
}

export function fetchClient(setup: Setup): Call {
  const authedFetch = oauthFetch(managerOptions(setup), { baseUrl: setup.apiUrl })
  return async (path, body) => {
    const response = await authedFetch(new URL(path, setup.apiUrl), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'x-demo-client': setup.name, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    await response.arrayBuffer()
    return response.status
  }
}

/**
 * The baseline, NOT this library: what hand-written code usually does. It keeps the last token
 * in a variable, fetches one when it has none or when a request gets a 401, and retries once.
 * Nothing is shared between concurrent requests and nothing is refreshed ahead of expiry.
 */
export function naiveClient(setup: Setup): Call {
  let token: string | undefined
  const fetchToken = async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: setup.resource })
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
    }
    if (setup.client.clientAuth === 'client_secret_basic') {
      headers.authorization = basicCredentials(setup.client)
    } else {
      form.set('client_id', setup.client.clientId)
      form.set('client_secret', setup.client.clientSecret)
    }
    const response = await fetch(setup.tokenUrl, { method: 'POST', headers, body: form })
    const json = (await response.json()) as { access_token?: string }
    if (!response.ok || !json.access_token)
      throw new Error(`Token request: HTTP ${response.status}`)
    token = json.access_token
    return token
  }
  const send = (path: string, body: unknown, accessToken: string) =>
    fetch(new URL(path, setup.apiUrl), {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'x-demo-client': setup.name,
        'content-type': 'application/json',
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
  return async (path, body) => {
    let response = await send(path, body, token ?? (await fetchToken()))
    if (response.status === 401) {
      await response.arrayBuffer()
      response = await send(path, body, await fetchToken())
    }
    await response.arrayBuffer()
    return response.status
  }
}
