import { cookie, readCookie, SESSION_COOKIE } from '@oauth-interceptors/example-bff-login'
import { userApi } from '../../lib/user-api'

/** POST /logout — ends the session here and in the store, and clears the cookie. */
export async function POST(request: Request): Promise<Response> {
  const session = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
  if (session) await userApi().tokens.endSession(session)
  return new Response(null, { status: 204, headers: { 'set-cookie': cookie(SESSION_COOKIE, '') } })
}
