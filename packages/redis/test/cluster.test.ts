import { Cluster } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RedisTokenStore, redisTokenStore } from '../src/index'
import { describeWithRedis, type RedisServer, startRedis } from './redis-server'

const KEY = '["client_credentials","https://auth.example.test/oauth/token","client-a","","",""]'
const token = {
  accessToken: 'cluster-token',
  tokenType: 'Bearer',
  expiresAt: performance.timeOrigin + performance.now() + 3_600_000,
  refreshAt: performance.timeOrigin + performance.now() + 3_540_000,
  raw: {},
}

// A one-node Redis Cluster: a script over keys in different hash slots fails there with
// CROSSSLOT even on one node, so these tests prove the hash tag, not just the key names.
describeWithRedis('redisTokenStore over an ioredis Cluster client', () => {
  let redis: RedisServer
  let cluster: Cluster
  const stores: RedisTokenStore[] = []
  const newStore = () => {
    const store = redisTokenStore({ client: cluster, prefix: 'cluster:', pollInterval: 60_000 })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    redis = await startRedis({ cluster: true })
    cluster = new Cluster([{ host: '127.0.0.1', port: redis.port }])
    await new Promise((resolve) => cluster.once('ready', resolve))
  }, 30_000)
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
    cluster?.disconnect()
    await redis?.stop()
  })

  it('keeps a token and its lock in one hash slot, and runs its scripts there', async () => {
    const holder = newStore()
    const waiter = newStore()
    await waiter.waitForChange(KEY, 60_000) // subscribes

    const lock = await holder.acquire(KEY, 10_000)
    expect(lock).toBeDefined()
    expect(await waiter.acquire(KEY, 10_000)).toBeUndefined()
    const woken = waiter.waitForChange(KEY, 60_000)
    await holder.set(KEY, token) // a two-key script: token and lock
    await woken // published from the script, delivered through the cluster's subscriber
    await lock?.release()

    expect(await waiter.get(KEY)).toEqual(token)
    const names = (await cluster.keys('cluster:*')) as string[]
    expect(names).toHaveLength(1)
    const tokenKey = names[0] as string
    const lockKey = tokenKey.replace(/:token$/, ':lock')
    const slot = (name: string) => cluster.call('CLUSTER', 'KEYSLOT', name)
    expect(await slot(lockKey)).toBe(await slot(tokenKey))
  })
})
