import { authorizationRequest, cookie, STATE_COOKIE } from '@oauth-interceptors/example-bff-login'
import { callbackUrl, userApi } from '../../lib/user-api'

export const dynamic = 'force-dynamic'

/** GET /login — sends the browser to the authorization endpoint, `state` kept in a cookie. */
export function GET(request: Request): Response {
  const { url, state } = authorizationRequest(userApi().config, callbackUrl(request))
  return new Response(null, {
    status: 302,
    headers: { location: url, 'set-cookie': cookie(STATE_COOKIE, state) },
  })
}
