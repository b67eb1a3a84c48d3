// The README's example, type-checked by tsconfig.test.json (not run by the tests).
import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { Cluster, Redis } from 'ioredis'
// In your code: from '@oauth-interceptors/redis'
import { isRedisStoreError, redisTokenStore } from '../src/index'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
redis.on('error', () => {}) // ioredis reconnects by itself; the token store copes meanwhile

const store = redisTokenStore({
  client: redis,
  prefix: 'billing-bff:',
  // Optional: tokens are AES-GCM encrypted in Redis (32 random bytes, e.g. from a secret manager).
  encryptionKey: process.env.TOKEN_STORE_KEY
    ? Buffer.from(process.env.TOKEN_STORE_KEY, 'base64')
    : undefined,
})

export const tokens = createTokenManager({
  grant: clientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: process.env.CLIENT_ID ?? '',
    clientSecret: process.env.CLIENT_SECRET ?? '',
  }),
  store,
  onEvent: (event) => {
    // Redis down or slow: requests go on with in-process single flight; count it.
    if (event.type === 'store_error' && isRedisStoreError(event.error)) {
      console.warn(`token store: ${event.operation} failed (${event.error.code})`)
    }
  },
})

// Redis Cluster works the same way: a token's keys share one hash tag.
export const clusterStore = redisTokenStore({
  client: new Cluster([{ host: '127.0.0.1', port: 7000 }]),
})

// On shutdown: the store closes its own pub/sub connection; the client is yours.
process.once('SIGTERM', async () => {
  await store.close()
  await redis.quit()
})
