/**
 * OAuth 2.0 Token Exchange (RFC 8693), imported from `@oauth-interceptors/core/token-exchange`:
 * a service trades the token it was called with (the subject token) for a token to call another
 * API with, on the same user's behalf. The subject token comes with each call —
 * `getToken({ subjectToken })`, or per request through an adapter's `tokenOptions` — and each
 * is cached on its own, keyed by its hash, never beyond its own expiry.
 *
 * @example
 * import { createTokenManager } from '@oauth-interceptors/core'
 * import { tokenExchange } from '@oauth-interceptors/core/token-exchange'
 *
 * const downstream = createTokenManager({
 *   grant: tokenExchange({ tokenUrl, clientId: 'bff', clientSecret, audience: 'orders-api' }),
 * })
 * const { accessToken } = await downstream.getToken({ subjectToken: incomingUserToken })
 *
 * @packageDocumentation
 * @module @oauth-interceptors/core/token-exchange
 */

import { ConfigError, TokenEndpointError } from './errors'
import {
  ClientAuthentication,
  type ClientOptions,
  type Grant,
  issuerMember,
  issuerOf,
  type ManagerHost,
  paramMembers,
  parseStandardResponse,
  type ResolvedParams,
  resolveParams,
  revocationOf,
  type SubjectToken,
  type SubjectTokenMethods,
  type TokenResponse,
} from './grants/grants'
import { jwtExpiry } from './grants/jwt'
import { sha256Base64url } from './hash'
import { LruMap } from './manager/memory-store'
import type { GetTokenOptions, TokenOptions } from './manager/token-manager'
import type { Token } from './types'
import { requireString } from './validate'

export type { SubjectToken } from './grants/grants'

/** The grant type of RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange'

/**
 * Token type identifiers of RFC 8693 §3, for `subjectTokenType`, `actorTokenType` and
 * `requestedTokenType`. Any other absolute URI a server defines may be given as well.
 */
export type TokenTypeUri =
  | 'urn:ietf:params:oauth:token-type:access_token'
  | 'urn:ietf:params:oauth:token-type:refresh_token'
  | 'urn:ietf:params:oauth:token-type:id_token'
  | 'urn:ietf:params:oauth:token-type:saml1'
  | 'urn:ietf:params:oauth:token-type:saml2'
  | 'urn:ietf:params:oauth:token-type:jwt'
  // Keeps the known types in editor completions while accepting any URI.
  | (string & {})

/**
 * Options of {@link tokenExchange}: the client that exchanges (its token endpoint, credentials and
 * how they are sent, as for every grant) and what it asks for. The subject token itself is given
 * with each call, not here.
 * @example
 * { tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'bff',
 *   clientSecret: process.env.CLIENT_SECRET, audience: 'https://orders.example.com' }
 */
export interface TokenExchangeOptions extends ClientOptions {
  /**
   * The type of the subject tokens given without `subjectTokenType` (RFC 8693 §2.1).
   * @default 'urn:ietf:params:oauth:token-type:access_token'
   */
  subjectTokenType?: TokenTypeUri | undefined
  /**
   * A token that represents the acting party (RFC 8693 §2.1 `actor_token`, delegation): sent with
   * every exchange, redacted from every error and event.
   * @default none (impersonation)
   */
  actorToken?: string | undefined
  /**
   * The type of `actorToken`; required with it (RFC 8693 §2.1).
   * @default 'urn:ietf:params:oauth:token-type:access_token' when `actorToken` is set
   */
  actorTokenType?: TokenTypeUri | undefined
  /**
   * The type of token asked for (RFC 8693 §2.1 `requested_token_type`).
   * @default none: the server's choice, usually an access token
   */
  requestedTokenType?: TokenTypeUri | undefined
}

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/**
 * The token exchange grant (RFC 8693): trades the subject token given with each call for a token
 * for `audience`, `resource` and `scope`, authenticating as the client (any `clientAuth`, JWT
 * assertions included). Each subject token's token is cached on its own, keyed by the subject
 * token's SHA-256, and never used past the subject token's own expiry (its JWT `exp`, or
 * `getToken({ subjectTokenExpiresAt })`). There is no refresh: a new token is an exchange again.
 * @example
 * const tokens = createTokenManager({
 *   grant: tokenExchange({ tokenUrl, clientId: 'bff', clientSecret, audience: 'orders-api' }),
 * })
 * await tokens.getToken({ subjectToken: request.headers.authorization.slice(7) })
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export function tokenExchange(options: TokenExchangeOptions): Grant {
  const client = new ClientAuthentication(options, 'tokenExchange')
  const url = issuerOf(options) ? undefined : client.tokenUrl
  const defaultType = tokenType('subjectTokenType', options.subjectTokenType) ?? ACCESS_TOKEN_TYPE
  const actorToken =
    options.actorToken === undefined
      ? undefined
      : requireString(
          'actorToken',
          options.actorToken,
          'Set it to the token of the acting party, or leave it out.',
        )
  const actorTokenType =
    actorToken === undefined
      ? undefined
      : (tokenType('actorTokenType', options.actorTokenType) ?? ACCESS_TOKEN_TYPE)
  const requestedTokenType = tokenType('requestedTokenType', options.requestedTokenType)
  return {
    type: TOKEN_EXCHANGE_GRANT_TYPE,
    tokenUrl: client.tokenUrl,
    ...issuerMember(options),
    // The subject token's hash joins these in the cache key, per call.
    identity: [...client.identity, actorTokenType ?? '', requestedTokenType ?? ''],
    params: resolveParams(options),
    reobtainAfterRefreshFailure: true,
    subjectTokens: { defaultType, attach: (host) => subjectTokenMethods(host, defaultType) },
    obtain: (params, context) => {
      const subject = params.subject
      // The manager checks this before any request; a grant used on its own is told too.
      const subjectToken = requireString(
        'subjectToken',
        subject?.token,
        'Pass getToken({ subjectToken }): a token exchange needs the token to exchange.',
      )
      return client.request(
        url,
        {
          grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
          subject_token: subjectToken,
          subject_token_type: subject?.type ?? defaultType,
          actor_token: actorToken,
          actor_token_type: actorTokenType,
          requested_token_type: requestedTokenType,
          ...paramMembers(params),
        },
        {},
        context,
      )
    },
    parse: parseExchangeResponse,
    secrets: () => [...client.secrets(), ...(actorToken === undefined ? [] : [actorToken])],
    ...revocationOf(options, client),
    fetch: client.fetch,
  }
}

/**
 * RFC 8693 §2.2.1: a standard token response plus `issued_token_type`. A token that is not an
 * access token comes with `token_type: "N_A"`; it is sent the way the adapter's `scheme` says,
 * like any token.
 */
function parseExchangeResponse(body: Record<string, unknown>): TokenResponse {
  const parsed = parseStandardResponse(body)
  return parsed.tokenType?.toUpperCase() === 'N_A' ? { ...parsed, tokenType: undefined } : parsed
}

function tokenType(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  return requireString(
    option,
    value,
    'Pass a token type URI such as "urn:ietf:params:oauth:token-type:access_token".',
  )
}

/** One call's params and cache key. */
interface Resolved {
  params: ResolvedParams
  key: string
}

/**
 * The subject-token calls of one manager: params and key by the call's subject token and
 * options, held in this process's memory only, as the tokens are; keys and events carry its hash.
 */
function subjectTokenMethods(host: ManagerHost, defaultType: string): SubjectTokenMethods {
  const { grant } = host
  const subjects = new LruMap<Resolved>(host.settings.cacheSize, 'cacheSize')
  const now = host.settings.now
  return {
    get(options) {
      const subjectToken = options?.subjectToken
      if (typeof subjectToken !== 'string' || subjectToken === '') {
        return Promise.reject(
          new ConfigError(
            'subjectToken',
            subjectToken === undefined ? 'it is missing' : 'expected a non-empty string',
            "A token exchange grant exchanges the token given with each call: pass getToken({ subjectToken }), or per request the adapter's tokenOptions: { subjectToken }.",
          ),
        )
      }
      const opts = options as GetTokenOptions
      const until = opts.subjectTokenExpiresAt
      const signature = `${subjectToken}\n${opts.subjectTokenType ?? ''}\n${until === undefined ? '' : Number(until)}\n${part(opts.scope)}\n${part(opts.audience)}\n${part(opts.resource)}`
      const known = subjects.get(signature)
      const serve = ({ key, params }: Resolved) => {
        const expiresAt = params.subject?.expiresAt
        if (expiresAt !== undefined && now() >= expiresAt) throw subjectExpired()
        return host.serve(key, params, opts.signal)
      }
      if (known !== undefined) {
        try {
          return serve(known)
        } catch (error) {
          return Promise.reject(error)
        }
      }
      return subjectOf(opts, subjectToken, defaultType).then((subject) => {
        const params = { ...resolveParams(opts, grant.params), subject }
        const resolved = { params, key: host.keyOf(params) }
        subjects.set(signature, resolved)
        return serve(resolved)
      })
    },
    capped(token: Token, params: ResolvedParams): Token {
      const until = params.subject?.expiresAt
      if (until === undefined || (token.expiresAt !== undefined && token.expiresAt <= until)) {
        return token
      }
      // Refreshing early would not help: a new exchange of the same subject token ends there too.
      const refreshAt = token.refreshAt === undefined ? until : Math.min(token.refreshAt, until)
      return { ...token, expiresAt: until, refreshAt }
    },
    clear: () => subjects.clear(),
  }
}

/** One part of a call's params signature; `\u0001` marks "not given" (a scope may be ''). */
function part(value: string | readonly string[] | undefined): string {
  return value === undefined ? '\u0001' : typeof value === 'string' ? value : value.join(' ')
}

/** What `getToken()` rejects with once the subject token of a token exchange has expired. */
function subjectExpired(): TokenEndpointError {
  return new TokenEndpointError(
    'The subject token has expired, so no token is exchanged for it; pass the current one',
    'subject_token_expired',
  )
}

/** The subject token of a call: its type, its SHA-256 for the cache key, and its expiry. */
async function subjectOf(
  options: TokenOptions,
  token: string,
  defaultType: string,
): Promise<SubjectToken> {
  const type = options.subjectTokenType ?? defaultType
  if (typeof type !== 'string' || type === '') {
    throw new ConfigError(
      'subjectTokenType',
      'expected a non-empty string',
      'Pass a token type URI such as "urn:ietf:params:oauth:token-type:access_token".',
    )
  }
  const given = options.subjectTokenExpiresAt
  const expiresAt = given === undefined ? jwtExpiry(token) : Number(given)
  if (Number.isNaN(expiresAt)) {
    throw new ConfigError(
      'subjectTokenExpiresAt',
      'expected a Date or a time in ms since the epoch',
      'Pass subjectTokenExpiresAt: new Date(expiresAtSeconds * 1000).',
    )
  }
  return { token, type, hash: await sha256Base64url(token), expiresAt }
}
