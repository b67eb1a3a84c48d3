/**
 * Mutual TLS client authentication (RFC 8705 §2), imported from `@oauth-interceptors/core/mtls`:
 * pass `tlsClientAuth({ dispatcher })` or `selfSignedTlsClientAuth({ dispatcher })` as a grant's
 * `clientAuth`. The client proves itself with the certificate it presents in the TLS handshake;
 * the token request carries `client_id` and no secret. The certificate and its key stay in the
 * transport you give (an undici `Agent` on Node.js, or your own `fetch`): this library never
 * sees them. With `issuer`, requests go to the metadata's `mtls_endpoint_aliases` (RFC 8705 §5).
 * The code lives here only, so an app that does not import this entry does not ship it.
 *
 * Tokens the server binds to the certificate (`cnf.x5t#S256`, RFC 8705 §3) are accepted by a
 * resource server only from a client that presents the same certificate: give the adapter's
 * HTTP client the same certificate (the same `Agent` for fetch or undici, an `https.Agent`
 * with the same `cert` and `key` for axios).
 *
 * @example
 * import { Agent } from 'undici'
 * import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
 * import { tlsClientAuth } from '@oauth-interceptors/core/mtls'
 *
 * const agent = new Agent({ connect: { cert: process.env.CLIENT_CERT, key: process.env.CLIENT_KEY } })
 * const tokens = createTokenManager({
 *   grant: clientCredentials({ tokenUrl: 'https://mtls.auth.example.com/oauth/token',
 *     clientId: 'orders-service', clientAuth: tlsClientAuth({ dispatcher: agent }) }),
 * })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/mtls
 */
import { ConfigError } from './errors'
import type { ClientCertificateAuth } from './grants/grants'
import type { FetchLike } from './grants/token-endpoint'

export type { ClientCertificateAuth } from './grants/grants'

/**
 * What `fetch` on Node.js takes as its `dispatcher`: an undici `Agent`, `Pool` or `Client`
 * (`new Agent({ connect: { cert, key, ca } })`), from the `undici` package.
 */
export interface Dispatcher {
  /** undici's dispatch method, by which fetch sends a request. */
  dispatch(...args: never[]): unknown
}

/** Options of {@link tlsClientAuth} and {@link selfSignedTlsClientAuth}. */
export interface TlsClientAuthOptions {
  /**
   * An undici dispatcher that presents the client certificate, e.g.
   * `new Agent({ connect: { cert, key } })`: token and revocation requests are sent with
   * `fetch(url, { ...init, dispatcher })`. Node.js only (its `fetch` is undici's).
   * @default none: `fetch` alone, or the manager's `fetch`, presents the certificate
   */
  dispatcher?: Dispatcher | undefined
  /**
   * The fetch that sends token and revocation requests: one that presents the client
   * certificate (Deno's with `client: Deno.createHttpClient({ cert, key })`, Bun's with
   * `tls: { cert, key }`), or, with `dispatcher`, the fetch to give it to (undici's own `fetch`,
   * to pair an `Agent` with the fetch of the same undici version).
   * @default globalThis.fetch with `dispatcher`; without it, the manager's `fetch`
   */
  fetch?: FetchLike | undefined
}

/**
 * `tls_client_auth` (RFC 8705 §2.1): the client authenticates with a certificate issued by a
 * certificate authority the server trusts, and registered at the server by its subject (e.g.
 * `tls_client_auth_subject_dn`). The request carries `client_id` and no secret or assertion.
 * @example
 * clientCredentials({ tokenUrl, clientId: 'orders-service',
 *   clientAuth: tlsClientAuth({ dispatcher: new Agent({ connect: { cert, key } }) }) })
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2.1
 */
export function tlsClientAuth(options: TlsClientAuthOptions = {}): ClientCertificateAuth {
  return new CertificateAuth('tls_client_auth', options)
}

/**
 * `self_signed_tls_client_auth` (RFC 8705 §2.2): the client authenticates with a self-signed
 * certificate registered at the server (in the client's `jwks`, as `x5c`, or by its
 * `x5t#S256`). The request carries `client_id` and no secret or assertion.
 * @example
 * clientCredentials({ tokenUrl, clientId: 'orders-service',
 *   clientAuth: selfSignedTlsClientAuth({ dispatcher: new Agent({ connect: { cert, key } }) }) })
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2.2
 */
export function selfSignedTlsClientAuth(options: TlsClientAuthOptions = {}): ClientCertificateAuth {
  return new CertificateAuth('self_signed_tls_client_auth', options)
}

/** Keeps the dispatcher out of sight: it holds the private key, which `util.inspect` would print. */
class CertificateAuth implements ClientCertificateAuth {
  readonly method: ClientCertificateAuth['method']
  readonly #fetch: FetchLike | undefined

  constructor(method: ClientCertificateAuth['method'], options: TlsClientAuthOptions) {
    this.method = method
    const { dispatcher, fetch: given } = options ?? {}
    const name = method === 'tls_client_auth' ? 'tlsClientAuth' : 'selfSignedTlsClientAuth'
    if (given !== undefined && typeof given !== 'function') {
      throw new ConfigError(
        'fetch',
        'expected a function with the signature of fetch',
        `Pass ${name}({ fetch }) a fetch that presents the client certificate, or leave it out.`,
      )
    }
    if (dispatcher !== undefined && typeof dispatcher?.dispatch !== 'function') {
      throw new ConfigError(
        'dispatcher',
        'expected an undici dispatcher',
        `Pass ${name}({ dispatcher: new Agent({ connect: { cert, key } }) }) with Agent from "undici", or leave it out.`,
      )
    }
    if (dispatcher !== undefined && given === undefined && typeof globalThis.fetch !== 'function') {
      throw new ConfigError(
        'fetch',
        'there is no global fetch here to give the dispatcher to',
        `Pass ${name}({ dispatcher, fetch }) with fetch from "undici".`,
      )
    }
    // Node's fetch takes `dispatcher` in its init; the DOM type does not name it. The global
    // fetch is read per request, as the manager reads its own default.
    this.#fetch =
      dispatcher === undefined
        ? given
        : (url, init) => (given ?? globalThis.fetch)(url, { ...init, dispatcher } as RequestInit)
  }

  get fetch(): FetchLike | undefined {
    return this.#fetch
  }

  /** The method only: the transport holds the key. */
  toJSON(): { method: string } {
    return { method: this.method }
  }

  /** `console.log` and `util.inspect` show what {@link CertificateAuth.toJSON} shows. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ClientCertificateAuth ${JSON.stringify(this.toJSON())}`
  }
}
