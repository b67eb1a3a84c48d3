import { authorizationRequest, cookie, STATE_COOKIE } from '@oauth-interceptors/example-bff-login'
import { defineEventHandler, getRequestURL, sendRedirect, setResponseHeader } from 'h3'
import { useUserApi } from '../utils/user-api'

/** GET /login — sends the browser to the authorization endpoint, `state` kept in a cookie. */
export default defineEventHandler((event) => {
  const { config } = useUserApi()
  const callback = new URL('/callback', getRequestURL(event)).href
  const { url, state } = authorizationRequest(config, callback)
  setResponseHeader(event, 'set-cookie', cookie(STATE_COOKIE, state))
  return sendRedirect(event, url, 302)
})
