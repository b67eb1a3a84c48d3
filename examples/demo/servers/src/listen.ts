import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createTlsServer, type ServerOptions as TlsOptions } from 'node:https'
import type { AddressInfo } from 'node:net'

/** A server listening on 127.0.0.1. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` (`https:` with TLS options), no trailing slash. */
  readonly url: string
  readonly server: Server
  /** Stops listening and ends every open connection, so no handle outlives the caller. */
  close(): Promise<void>
}

/**
 * Starts `handler` on 127.0.0.1. Port 0 (the default) lets the system choose a free port,
 * so tests can run side by side. With `tls` (a certificate and key, and for mutual TLS
 * `requestCert` and the `ca` of client certificates), it serves https.
 */
export async function listen(
  handler: RequestListener,
  port = 0,
  tls?: TlsOptions,
): Promise<RunningServer> {
  // Node's default keep-alive timeout (5 s) is kept on purpose: undici (fetch) stops reusing a
  // connection about a second before the server's advertised timeout, so a short one would mean
  // a new connection per request. close() ends idle connections itself.
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port: actual } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${actual}`,
    server,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
      return closing
    },
  }
}

/**
 * Starts an async `handler` on 127.0.0.1 as {@link listen} does; a handler that throws answers
 * 500 `server_error` and logs the error under `name`.
 */
export function listenAsync(
  name: string,
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  port = 0,
): Promise<RunningServer> {
  return listen((request, response) => {
    handler(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: 'server_error' })
      console.error(`${name} error`, error)
    })
  }, port)
}

/** The request body as text. */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Parses a JSON or form body by its content type; `undefined` when it is neither. */
export function parseBody(
  contentType: string | undefined,
  text: string,
): Record<string, unknown> | undefined {
  const type = contentType?.toLowerCase() ?? ''
  if (type.startsWith('application/json')) {
    try {
      const value: unknown = JSON.parse(text)
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined
    } catch {
      return undefined
    }
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text))
  }
  return undefined
}

/** Sends `body` as JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  response.end(text)
}
