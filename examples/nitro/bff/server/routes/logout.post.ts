import { cookie, readCookie, SESSION_COOKIE } from '@oauth-interceptors/example-bff-login'
import { defineEventHandler, getRequestHeader, setResponseHeader, setResponseStatus } from 'h3'
import { useUserApi } from '../utils/user-api'

/** POST /logout — ends the session here and in the store, and clears the cookie. */
export default defineEventHandler(async (event) => {
  const session = readCookie(getRequestHeader(event, 'cookie'), SESSION_COOKIE)
  if (session) await useUserApi().tokens.endSession(session)
  setResponseHeader(event, 'set-cookie', cookie(SESSION_COOKIE, ''))
  setResponseStatus(event, 204)
  return null
})
