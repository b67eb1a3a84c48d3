import { DEMO_CLIENTS, RESOURCES, startAuthorizationServer } from './authorization-server'
import { startResourceServer } from './resource-server'

/** Where the examples find an OAuth server and an API, and the client to use. */
export interface DemoEnvironment {
  /** The token endpoint. */
  tokenUrl: string
  /** The protected API. */
  apiUrl: string
  clientId: string
  clientSecret: string
  /** The resource indicator (RFC 8707) the API's tokens are issued for. */
  resource: string
  /** Stops what was started here; a no-op for servers named in the environment. */
  close(): Promise<void>
}

export interface DemoEnvironmentOptions {
  /** Access token lifetime in seconds. @default 60 */
  accessTokenTTL?: number
  /** Port of the authorization server; the API gets the next one. @default 0 (any free ports) */
  port?: number
}

/**
 * Starts oidc-provider and a JWT-checking API on 127.0.0.1 and returns how to reach them, with
 * the `client_secret_basic` demo client.
 */
export async function startDemoEnvironment(
  options: DemoEnvironmentOptions = {},
): Promise<DemoEnvironment> {
  const as = await startAuthorizationServer({
    accessTokenTTL: options.accessTokenTTL ?? 60,
    ...(options.port !== undefined && { port: options.port }),
  })
  const api = await startResourceServer(as, {
    resource: RESOURCES.jwt,
    ...(options.port !== undefined && options.port !== 0 && { port: options.port + 1 }),
  })
  return {
    tokenUrl: as.tokenUrl,
    apiUrl: api.url,
    clientId: DEMO_CLIENTS.basic.clientId,
    clientSecret: DEMO_CLIENTS.basic.clientSecret,
    resource: RESOURCES.jwt,
    async close() {
      await api.close()
      await as.close()
    },
  }
}

/**
 * The environment the examples run against: `TOKEN_URL`, `API_URL`, `CLIENT_ID`,
 * `CLIENT_SECRET` and `RESOURCE` from `env` when `TOKEN_URL` is set (e.g. the output of
 * `pnpm --filter @oauth-interceptors/demo-servers serve`), else embedded demo servers.
 */
export async function demoEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DemoEnvironment> {
  if (!env.TOKEN_URL) return startDemoEnvironment()
  const required = (name: string) => {
    const value = env[name]
    if (!value) throw new Error(`${name} is not set (TOKEN_URL is, so all of them are needed)`)
    return value
  }
  return {
    tokenUrl: required('TOKEN_URL'),
    apiUrl: required('API_URL'),
    clientId: required('CLIENT_ID'),
    clientSecret: required('CLIENT_SECRET'),
    resource: env.RESOURCE ?? RESOURCES.jwt,
    close: async () => {},
  }
}
