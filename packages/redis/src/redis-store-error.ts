import { OAuthInterceptorsError } from '@oauth-interceptors/core'

/** Why a Redis call failed: not connected, no answer in time, or an error reply. */
export type RedisStoreErrorCode = 'redis_unavailable' | 'redis_timeout' | 'redis_error'

/**
 * A Redis call of the token store failed. The token manager reports it as a `store_error`
 * event and carries on in-process, so a user's request never fails because of it. It carries
 * no cause: client errors can hold the command's arguments, and those hold tokens.
 * @example
 * createTokenManager({ grant, store, onEvent: (event) => {
 *   if (event.type === 'store_error' && isRedisStoreError(event.error)) metrics.increment(event.error.code)
 * } })
 */
export class RedisStoreError extends OAuthInterceptorsError {
  override name = 'RedisStoreError'
  declare readonly code: RedisStoreErrorCode

  constructor(message: string, code: RedisStoreErrorCode) {
    super(message, code, { transient: true })
  }
}

/** True for a {@link RedisStoreError}, also across realms and package copies. */
export function isRedisStoreError(error: unknown): error is RedisStoreError {
  return (
    error instanceof RedisStoreError || (error instanceof Error && error.name === 'RedisStoreError')
  )
}
