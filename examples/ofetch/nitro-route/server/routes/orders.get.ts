import { isOAuthInterceptorsError } from '@oauth-interceptors/core'
import { createError, defineEventHandler, getQuery } from 'h3'
import { FetchError } from 'ofetch'
import { useOrdersApi } from '../utils/orders-api'

/** GET /orders?status=open — reads the orders from the upstream API with the service's token. */
export default defineEventHandler(async (event) => {
  const { status } = getQuery(event)
  try {
    return await useOrdersApi()<unknown>('/orders', {
      query: typeof status === 'string' ? { status } : {},
    })
  } catch (error) {
    // No token could be had: our problem, not the caller's. The error carries no secret.
    if (isOAuthInterceptorsError(error)) {
      throw createError({ statusCode: 503, statusMessage: `Upstream auth failed: ${error.code}` })
    }
    if (error instanceof FetchError) {
      throw createError({ statusCode: 502, statusMessage: `Upstream answered ${error.status}` })
    }
    throw error
  }
})
