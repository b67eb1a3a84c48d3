import { webcrypto } from 'node:crypto'
import { ConfigError, type Token } from '@oauth-interceptors/core'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isRedisStoreError, type RedisTokenStore, redisTokenStore } from '../src/index'
import { describeWithRedis, type RedisServer, startRedis } from './redis-server'

const KEY = '["client_credentials","https://auth.example.test/oauth/token","client-a","","",""]'

function token(overrides: Partial<Token> = {}): Token {
  const now = performance.timeOrigin + performance.now()
  return {
    accessToken: 'secret-access-token',
    tokenType: 'Bearer',
    expiresAt: now + 3_600_000,
    refreshAt: now + 3_540_000,
    refreshToken: 'secret-refresh-token',
    scope: 'read',
    raw: { access_token: 'secret-access-token', refresh_token: 'secret-refresh-token' },
    ...overrides,
  }
}

describeWithRedis('redisTokenStore over a real redis-server', () => {
  let redis: RedisServer
  /** Reads and writes Redis directly, as an operator (or an attacker) would. */
  let inspector: Redis
  const clients: Redis[] = []
  const stores: RedisTokenStore[] = []
  let prefixes = 0

  /** A store with its own connection and prefix: one "process" of a fleet. */
  const newStore = (options: Partial<Parameters<typeof redisTokenStore>[0]> = {}) => {
    const client = new Redis(redis.url)
    clients.push(client)
    const store = redisTokenStore({ client, prefix: `t${prefixes}:`, ...options })
    stores.push(store)
    return store
  }
  /** Redis keys under the current prefix, without their TTLs. */
  const keys = async () => (await inspector.keys(`t${prefixes}:*`)).sort()
  const storedValue = async (suffix: string) => {
    const [name] = (await keys()).filter((key) => key.endsWith(suffix))
    return name === undefined ? null : inspector.get(name)
  }

  beforeAll(async () => {
    redis = await startRedis()
    inspector = new Redis(redis.url)
  })
  afterEach(() => {
    prefixes++
  })
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
    for (const client of [...clients, inspector]) client?.disconnect()
    await redis?.stop()
  })

  describe('values', () => {
    it('stores a versioned JSON value that expires with the token', async () => {
      const store = newStore()
      const stored = token({
        expiresAt: performance.timeOrigin + performance.now() + 60_000,
        refreshToken: undefined,
      })
      await store.set(KEY, stored)

      const [name] = await keys()
      expect(name).toMatch(/^t\d+:\{[0-9a-f]{32}\}:token$/)
      expect(JSON.parse((await inspector.get(name as string)) as string)).toEqual({
        v: 1,
        token: stored,
      })
      const ttl = await inspector.pttl(name as string)
      expect(ttl).toBeGreaterThan(55_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
      expect(await store.get(KEY)).toEqual(stored)
    })

    it('keeps a token without expiry without a TTL, or for maxTtl when set', async () => {
      const forever = newStore()
      await forever.set(KEY, token({ expiresAt: undefined, refreshAt: undefined }))
      expect(await inspector.pttl((await keys())[0] as string)).toBe(-1)
      expect((await forever.get(KEY))?.expiresAt).toBeUndefined()

      const capped = newStore({ prefix: 'capped:', maxTtl: 5_000 })
      await capped.set(KEY, token({ expiresAt: undefined, refreshAt: undefined }))
      const [name] = await inspector.keys('capped:*')
      expect(await inspector.pttl(name as string)).toBeGreaterThan(4_000)
      expect(await inspector.pttl(name as string)).toBeLessThanOrEqual(5_000)
      await capped.set(KEY, token()) // expires in an hour: still capped
      expect(await inspector.pttl(name as string)).toBeLessThanOrEqual(5_000)
    })

    it('does not store a token that has already expired', async () => {
      const store = newStore()
      const expired = performance.timeOrigin + performance.now() - 1
      await store.set(KEY, token({ expiresAt: expired, refreshToken: undefined }))
      expect(await keys()).toEqual([])
    })

    it('keeps a token with a refresh token past its access token, without a TTL or for maxTtl', async () => {
      // Its refresh token still serves: a user session idle past its access token is refreshed.
      const expired = performance.timeOrigin + performance.now() - 1
      await newStore().set(KEY, token({ expiresAt: expired }))
      expect(await inspector.pttl((await keys())[0] as string)).toBe(-1)

      await newStore({ prefix: 'kept:', maxTtl: 30_000 }).set(KEY, token())
      const [name] = await inspector.keys('kept:*')
      const ttl = await inspector.pttl(name as string)
      expect(ttl).toBeGreaterThan(25_000)
      expect(ttl).toBeLessThanOrEqual(30_000)
    })

    it('reads an unknown version, foreign data or a malformed token as a miss, never an error', async () => {
      const store = newStore()
      await store.set(KEY, token())
      const [name] = await keys()
      const write = (value: string) => inspector.set(name as string, value)

      // What a future release might write: this release must not break on it.
      await write(JSON.stringify({ v: 2, token: token(), format: 'new' }))
      expect(await store.get(KEY)).toBeUndefined()
      for (const value of [
        'not json',
        '"a string"',
        '[1,2]',
        JSON.stringify({ token: token() }),
        JSON.stringify({ v: 1, token: { ...token(), accessToken: 42 } }),
        JSON.stringify({ v: 1, token: { ...token(), accessToken: '' } }),
        JSON.stringify({ v: 1, token: { ...token(), expiresAt: 'soon' } }),
        JSON.stringify({ v: 1, token: { ...token(), raw: null } }),
      ]) {
        await write(value)
        expect(await store.get(KEY), value).toBeUndefined()
      }
      await inspector.del(name as string)
      await inspector.hset(name as string, 'wrong', 'type') // WRONGTYPE is a Redis error
      await expect(store.get(KEY)).rejects.toSatisfy(isRedisStoreError)
    })

    it('reads a miss for a key never written, and forgets a deleted one', async () => {
      const store = newStore()
      expect(await store.get(KEY)).toBeUndefined()
      await store.set(KEY, token())
      await store.delete(KEY)
      expect(await store.get(KEY)).toBeUndefined()
      expect(await keys()).toEqual([])
    })

    it('shares tokens between stores on different connections (processes)', async () => {
      const a = newStore()
      const b = newStore()
      const stored = token()
      await a.set(KEY, stored)
      expect(await b.get(KEY)).toEqual(stored)
      expect(await b.get('another client')).toBeUndefined()
    })
  })

  describe('keys for Redis Cluster', () => {
    it('puts a token, its lock and its channel under one hash tag, behind the prefix', async () => {
      const store = newStore()
      await store.set(KEY, token())
      const lock = await store.acquire(KEY, 10_000)
      const waiting = store.waitForChange(KEY, 10) // subscribes to the channel
      await waiting
      const [channel] = (await inspector.pubsub('CHANNELS', `t${prefixes}:*`)) as string[]

      const names = [...(await keys()), channel]
      expect(names).toHaveLength(3)
      const tags = names.map(
        (name) => /^t\d+:(\{[0-9a-f]{32}\}):(token|lock|changed)$/.exec(name ?? '')?.[1],
      )
      expect(new Set(tags).size).toBe(1)
      expect(tags[0]).toBeDefined()
      // The client id is hashed, not readable in the keyspace.
      expect(names.join()).not.toContain('client-a')
      await lock?.release()
    })

    it('rejects a prefix with braces, which would change the hash tag', () => {
      expect(() => newStore({ prefix: 'app:{tenant}:' })).toThrow(ConfigError)
    })
  })

  describe('refresh lock', () => {
    it('gives the lock to one holder at a time, for a lease renewed while it is held', async () => {
      const a = newStore()
      const b = newStore()
      const lock = await a.acquire(KEY, 3_000)
      expect(lock).toBeDefined()
      expect(await b.acquire(KEY, 3_000)).toBeUndefined()
      const [name] = await keys()
      expect(name).toMatch(/:lock$/)
      const ttl = await inspector.pttl(name as string)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(1_000) // a third of 3 s: a dead holder blocks for 1 s

      await lock?.release()
      expect(await keys()).toEqual([])
      const next = await b.acquire(KEY, 3_000)
      expect(next).toBeDefined()
      await next?.release()
    })

    it('does not let a stale owner release the lock of the holder that took over (fencing)', async () => {
      const a = newStore()
      const b = newStore()
      const stale = await a.acquire(KEY, 3_000)
      const [name] = await keys()
      await inspector.del(name as string) // as if a's lock had expired while a was stuck
      const current = await b.acquire(KEY, 3_000)
      expect(current).toBeDefined()
      const held = await inspector.get(name as string)

      await stale?.release()
      expect(await inspector.get(name as string)).toBe(held)
      expect(await newStore().acquire(KEY, 3_000)).toBeUndefined()
      await stale?.release() // twice: still nothing
      await current?.release()
      expect(await inspector.get(name as string)).toBeNull()
    })

    it('drops the write of a stale owner, so it cannot overwrite the token of the new holder', async () => {
      const a = newStore()
      const b = newStore()
      const stale = await a.acquire(KEY, 3_000)
      await inspector.del((await keys())[0] as string)
      const current = await b.acquire(KEY, 3_000)
      await b.set(KEY, token({ accessToken: 'from-b' }))

      await a.set(KEY, token({ accessToken: 'from-stale-a' }))

      expect((await b.get(KEY))?.accessToken).toBe('from-b')
      await current?.release()
      await stale?.release()
      await a.set(KEY, token({ accessToken: 'from-a-later' })) // no lock held anywhere: writes
      expect((await b.get(KEY))?.accessToken).toBe('from-a-later')
    })

    it('keeps renewing the lease of a live holder until release', async () => {
      const monitor = await inspector.monitor() // a new connection, in MONITOR mode
      const renewals: string[] = []
      let onRenewal = () => {}
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toUpperCase() === 'EVAL' && args[1]?.includes('PEXPIRE')) {
          renewals.push(args[3] as string)
          onRenewal()
        }
      })
      const store = newStore()
      const lock = await store.acquire(KEY, 600) // a lease of 200 ms, renewed every 100 ms
      const acquiredAt = performance.now()
      const [name] = await keys()
      const fence = await inspector.get(name as string)

      // Wait for renewals (events seen by MONITOR) until the first lease would have run out.
      while (renewals.length < 3 || performance.now() - acquiredAt < 250) {
        await new Promise<void>((resolve) => {
          onRenewal = resolve
        })
      }
      expect(renewals.every((renewed) => renewed === name)).toBe(true)
      expect(await inspector.get(name as string)).toBe(fence)
      expect(await newStore().acquire(KEY, 600)).toBeUndefined()
      await lock?.release()
      expect(await inspector.exists(name as string)).toBe(0)
      monitor.disconnect()
    })
  })

  describe('waiting for another process', () => {
    it('wakes a waiter when another process stores a token or releases its lock', async () => {
      const waiter = newStore({ pollInterval: 60_000 })
      const holder = newStore()
      await waiter.waitForChange(KEY, 60_000) // first call subscribes and returns at once

      const lock = await holder.acquire(KEY, 10_000)
      const woken = waiter.waitForChange(KEY, 60_000)
      await holder.set(KEY, token())
      await woken // without the message this would wait 60 s and time the test out
      const again = waiter.waitForChange(KEY, 60_000)
      await lock?.release()
      await again
    })

    it('returns after the poll interval or the timeout at the latest', async () => {
      const store = newStore({ pollInterval: 20 })
      await store.waitForChange(KEY, 60_000)
      await store.waitForChange(KEY, 60_000) // nothing published: back after 20 ms
      await newStore({ pollInterval: 60_000 }).waitForChange(KEY, 60_000)
      await stores.at(-1)?.waitForChange(KEY, 20) // timeout shorter than the poll interval
    })
  })

  describe('encryption at rest', () => {
    const rawKey = () => webcrypto.getRandomValues(new Uint8Array(32))

    it('round-trips a token through AES-GCM; Redis holds no token, each write a new IV', async () => {
      const key = rawKey()
      const store = newStore({ encryptionKey: key })
      const stored = token()
      await store.set(KEY, stored)
      const first = (await storedValue(':token')) as string
      await store.set(KEY, stored)
      const second = (await storedValue(':token')) as string

      expect(await store.get(KEY)).toEqual(stored)
      const entry = JSON.parse(first)
      expect(Object.keys(entry).sort()).toEqual(['data', 'iv', 'v'])
      expect(entry.v).toBe(1)
      for (const value of [first, second]) {
        expect(value).not.toContain('secret-access-token')
        expect(value).not.toContain('secret-refresh-token')
        expect(value).not.toContain('Bearer')
      }
      expect(JSON.parse(second).iv).not.toBe(entry.iv)
      expect(second).not.toBe(first)
      // Another process with the same key reads it.
      expect((await newStore({ encryptionKey: key }).get(KEY))?.accessToken).toBe(
        'secret-access-token',
      )
    })

    it('accepts a CryptoKey', async () => {
      const key = await webcrypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ])
      const store = newStore({ encryptionKey: key })
      await store.set(KEY, token())
      expect((await store.get(KEY))?.accessToken).toBe('secret-access-token')
      expect(await storedValue(':token')).not.toContain('secret-access-token')
    })

    it('reads a miss with the wrong key, without a key, for plaintext, or for an entry moved to another key', async () => {
      const key = rawKey()
      const store = newStore({ encryptionKey: key })
      await store.set(KEY, token())
      expect(await newStore({ encryptionKey: rawKey() }).get(KEY)).toBeUndefined()
      expect(await newStore().get(KEY)).toBeUndefined()

      // Someone with write access to Redis plants a plaintext token: not trusted.
      const [name] = await keys()
      const sealed = (await inspector.get(name as string)) as string
      await inspector.set(
        name as string,
        JSON.stringify({ v: 1, token: token({ accessToken: 'planted' }) }),
      )
      expect(await store.get(KEY)).toBeUndefined()

      // The ciphertext is bound to its key: copied under another client's key, it does not read.
      await store.set('other client', token())
      const other = (await keys()).find((candidate) => candidate !== name) as string
      await inspector.set(other, sealed)
      expect(await store.get('other client')).toBeUndefined()
    })

    it('rejects keys that are not 32 bytes or not AES-GCM', async () => {
      expect(() => newStore({ encryptionKey: new Uint8Array(16) })).toThrow(/32 bytes/)
      const hmac = await webcrypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
      ])
      expect(() => newStore({ encryptionKey: hmac })).toThrow(ConfigError)
    })
  })

  describe('when Redis is unreachable', () => {
    it('fails fast with a RedisStoreError that carries no token', async () => {
      const dead = await startRedis()
      const client = new Redis(dead.url, { maxRetriesPerRequest: null }) // would queue forever
      client.on('error', () => {})
      clients.push(client)
      const store = redisTokenStore({ client, timeout: 200 })
      stores.push(store)
      await store.set(KEY, token())
      const lost = new Promise((resolve) => client.once('reconnecting', resolve))
      await dead.stop()
      await lost

      const started = performance.now()
      const errors = await Promise.all(
        [
          store.get(KEY),
          store.set(KEY, token()),
          store.acquire(KEY, 1_000),
          store.waitForChange(KEY, 60_000),
        ].map((call) =>
          (call as Promise<unknown>).then(
            () => undefined,
            (error: unknown) => error,
          ),
        ),
      )
      expect(performance.now() - started).toBeLessThan(1_000)
      for (const error of errors) {
        expect(isRedisStoreError(error), String(error)).toBe(true)
        expect(JSON.stringify(error)).not.toContain('secret')
        expect(String((error as Error).message)).not.toContain('secret')
      }
    })

    it('rejects options that are not usable', () => {
      expect(() => redisTokenStore({ client: {} as never })).toThrow(ConfigError)
      expect(() => newStore({ timeout: 0 })).toThrow(/timeout/)
      expect(() => newStore({ pollInterval: Number.NaN })).toThrow(/pollInterval/)
    })
  })
})
