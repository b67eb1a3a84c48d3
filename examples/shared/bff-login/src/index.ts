/**
 * The login side of a BFF, kept minimal and web-standard (it runs on Node and in workers): the
 * authorization-code flow (RFC 6749 §4.1) with `state`, and the cookies. In an app, an OpenID
 * Connect library (openid-client, Auth.js, …) does this part, with PKCE and ID-token checks; what
 * it hands back is the token response that `setSession()` takes.
 */

/** The client the BFF logs its users in with. */
export interface LoginClient {
  authorizeUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
}

/** The cookie that holds the session id (the tokens stay on the server). */
export const SESSION_COOKIE = 'sid'
/** The cookie that holds `state` from `/login` until `/callback`. */
export const STATE_COOKIE = 'oauth_state'

/** Where `/login` sends the browser, and the `state` to keep in a cookie until the callback. */
export function authorizationRequest(
  client: LoginClient,
  redirectUri: string,
): { url: string; state: string } {
  const state = crypto.randomUUID()
  const url = new URL(client.authorizeUrl)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: 'openid orders:read',
    state,
  }).toString()
  return { url: url.href, state }
}

/**
 * Trades the callback's code for the user's tokens at the token endpoint (the client
 * authenticated with HTTP Basic, RFC 6749 §2.3.1): the response `setSession()` takes.
 */
export async function exchangeCode(
  client: LoginClient,
  code: string,
  redirectUri: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Record<string, unknown>> {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  const response = await fetchImpl(client.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${encode(client.clientId)}:${encode(client.clientSecret)}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    }),
  })
  if (!response.ok) throw new Error(`The token endpoint answered ${response.status} to the login`)
  return (await response.json()) as Record<string, unknown>
}

/** The value of cookie `name` in a `Cookie` request header. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return decodeURIComponent(value.join('='))
  }
  return undefined
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site; `''` clears it. */
export function cookie(name: string, value: string): string {
  const attributes = value ? '' : '; Max-Age=0'
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax${attributes}`
}

/** A BFF's login client and the API it calls on its users' behalf. */
export interface BffConfig extends LoginClient {
  /** The API called on the signed-in user's behalf. */
  apiUrl: string
}

/**
 * The BFF's settings from `BFF_AUTHORIZE_URL`, `BFF_TOKEN_URL`, `BFF_CLIENT_ID`,
 * `BFF_CLIENT_SECRET` and `BFF_API_URL` in `env` (`process.env`, or a worker's bindings).
 */
export function bffConfig(env: Readonly<Record<string, string | undefined>>): BffConfig {
  const required = (name: string): string => {
    const value = env[name]
    if (!value) throw new Error(`${name} is not set: the BFF needs it to log users in`)
    return value
  }
  return {
    authorizeUrl: required('BFF_AUTHORIZE_URL'),
    tokenUrl: required('BFF_TOKEN_URL'),
    clientId: required('BFF_CLIENT_ID'),
    clientSecret: required('BFF_CLIENT_SECRET'),
    apiUrl: required('BFF_API_URL'),
  }
}
