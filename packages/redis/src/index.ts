/**
 * A Redis `TokenStore` for `@oauth-interceptors/core`: tokens shared by a fleet, one refresh
 * across processes. Start with {@link redisTokenStore}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/redis
 */
export type { EncryptionKey } from './entry-codec'
export type { RedisStoreErrorCode } from './redis-store-error'
export { isRedisStoreError, RedisStoreError } from './redis-store-error'
export type {
  RedisClientLike,
  RedisSubscriberLike,
  RedisTokenStoreOptions,
} from './redis-token-store'
export { RedisTokenStore, redisTokenStore } from './redis-token-store'
