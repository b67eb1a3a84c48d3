import {
  cookie,
  exchangeCode,
  readCookie,
  SESSION_COOKIE,
  STATE_COOKIE,
} from '@oauth-interceptors/example-bff-login'
import { callbackUrl, noStoreFetch, userApi } from '../../lib/user-api'

export const dynamic = 'force-dynamic'

/** GET /callback — trades the code for the user's tokens and starts their session. */
export async function GET(request: Request): Promise<Response> {
  const { config, tokens } = userApi()
  const url = new URL(request.url)
  const code = url.searchParams.get('code')
  const state = url.searchParams.get('state')
  const expected = readCookie(request.headers.get('cookie'), STATE_COOKIE)
  if (!code || !state || !expected || state !== expected) {
    return Response.json({ error: 'invalid_login' }, { status: 400 })
  }
  const session = crypto.randomUUID()
  await tokens.setSession(
    session,
    await exchangeCode(config, code, callbackUrl(request), noStoreFetch),
  )
  const headers = new Headers({ location: '/' })
  headers.append('set-cookie', cookie(STATE_COOKIE, ''))
  headers.append('set-cookie', cookie(SESSION_COOKIE, session))
  return new Response(null, { status: 302, headers })
}
