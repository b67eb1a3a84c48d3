/**
 * An in-process token endpoint (a fetch function) for the scenarios that measure core alone:
 * no sockets, so the numbers are core's own cost.
 */
import { randomBytes } from 'node:crypto'

const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/** A JWT-shaped token of the size the bench server issues (~260 characters). */
export function fakeJwt(): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = Buffer.from(
    JSON.stringify({
      iss: 'http://127.0.0.1',
      sub: 'bench-client',
      aud: 'bench-api',
      iat: now,
      exp: now + 3600,
      jti: randomBytes(9).toString('base64url'),
    }),
  ).toString('base64url')
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`
}

/** A fetch that answers every token request with a fresh token valid for an hour. */
export const tokenEndpointFetch = async (): Promise<Response> => tokenResponse('Bearer')

/** The same for a DPoP client: the tokens are DPoP-bound (RFC 9449 §5). */
export const dpopTokenEndpointFetch = async (): Promise<Response> => tokenResponse('DPoP')

const tokenResponse = (tokenType: string) =>
  new Response(
    JSON.stringify({ access_token: fakeJwt(), token_type: tokenType, expires_in: 3600 }),
    { status: 200, headers: { 'content-type': 'application/json' } },
  )

export const TOKEN_URL = 'https://auth.example.test/oauth/token'
