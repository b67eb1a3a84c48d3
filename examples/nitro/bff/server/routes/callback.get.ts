import {
  cookie,
  exchangeCode,
  readCookie,
  SESSION_COOKIE,
  STATE_COOKIE,
} from '@oauth-interceptors/example-bff-login'
import {
  defineEventHandler,
  getQuery,
  getRequestHeader,
  getRequestURL,
  sendRedirect,
  setResponseHeader,
  setResponseStatus,
} from 'h3'
import { useUserApi } from '../utils/user-api'

/** GET /callback — trades the code for the user's tokens and starts their session. */
export default defineEventHandler(async (event) => {
  const { config, tokens } = useUserApi()
  const { code, state } = getQuery(event)
  const expected = readCookie(getRequestHeader(event, 'cookie'), STATE_COOKIE)
  if (typeof code !== 'string' || typeof state !== 'string' || !expected || state !== expected) {
    setResponseStatus(event, 400)
    return { error: 'invalid_login' }
  }
  const callback = new URL('/callback', getRequestURL(event)).href
  const session = crypto.randomUUID()
  await tokens.setSession(session, await exchangeCode(config, code, callback))
  setResponseHeader(event, 'set-cookie', [
    cookie(STATE_COOKIE, ''),
    cookie(SESSION_COOKIE, session),
  ])
  return sendRedirect(event, '/', 302)
})
