import { isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { readCookie, SESSION_COOKIE } from '@oauth-interceptors/example-bff-login'
import { defineEventHandler, getQuery, getRequestHeader, setResponseStatus } from 'h3'
import { FetchError } from 'ofetch'
import { useUserApi } from '../../utils/user-api'

const loginRequired = { error: 'login_required', login: '/login' }

/** GET /me/orders — the signed-in user's orders, fetched with their own token. */
export default defineEventHandler(async (event) => {
  const session = readCookie(getRequestHeader(event, 'cookie'), SESSION_COOKIE)
  if (!session) {
    setResponseStatus(event, 401)
    return loginRequired
  }
  try {
    return await useUserApi().api<unknown>('/orders', {
      query: getQuery(event),
      tokenOptions: { session },
    })
  } catch (error) {
    // ofetch hands the LoginRequiredError over as the cause of its FetchError.
    const cause = error instanceof FetchError ? error.cause : error
    if (isOAuthInterceptorsError(cause) && cause.code === 'login_required') {
      setResponseStatus(event, 401)
      return loginRequired
    }
    if (error instanceof FetchError && error.status) {
      setResponseStatus(event, error.status)
      return error.data
    }
    throw error
  }
})
