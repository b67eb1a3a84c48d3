import { isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { readCookie, SESSION_COOKIE } from '@oauth-interceptors/example-bff-login'
import { userApi } from '../../../lib/user-api'

export const dynamic = 'force-dynamic'

const loginRequired = { error: 'login_required', login: '/login' }

/** GET /me/orders — the signed-in user's orders, fetched with their own token. */
export async function GET(request: Request): Promise<Response> {
  const session = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
  if (!session) return Response.json(loginRequired, { status: 401 })
  const { api, config } = userApi()
  try {
    const response = await api(new URL(`/orders${new URL(request.url).search}`, config.apiUrl), {
      tokenOptions: { session },
      signal: AbortSignal.timeout(10_000),
    })
    return new Response(response.body, {
      status: response.status,
      headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' },
    })
  } catch (error) {
    if (isOAuthInterceptorsError(error) && error.code === 'login_required') {
      return Response.json(loginRequired, { status: 401 })
    }
    throw error
  }
}
