import { ConfigError, type Token, type TokenLock } from '@oauth-interceptors/core'
import {
  type SharedTokenStore,
  type StoreSharing,
  type StoreSharingOptions,
  shareTokens,
} from '@oauth-interceptors/core/store'
import { type EncryptionKey, EntryCodec } from './entry-codec'
import { RedisStoreError } from './redis-store-error'

/**
 * The part of an ioredis client (`Redis` or `Cluster`, ioredis 5) the store uses. Everything
 * goes through `call`, so no method of the client is patched or defined.
 */
export interface RedisClientLike {
  /** ioredis' connection state; the store sends nothing while it is reconnecting. */
  readonly status: string
  /** Sends one Redis command (`GET`, `SET`, `EVALSHA`, …) and resolves its reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>
  /** A second connection for pub/sub; the store creates it on first wait and owns it. */
  duplicate(): RedisSubscriberLike
}

/** The pub/sub side of an ioredis connection, as `client.duplicate()` returns it. */
export interface RedisSubscriberLike {
  /** Subscribes to the channels the store announces token changes on. */
  subscribe(...channels: string[]): Promise<unknown>
  /** Calls `listener` for each message published on a subscribed channel. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  /** Calls `listener` when the connection reports an error (ioredis reconnects by itself). */
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Closes the connection; `store.close()` calls it. */
  disconnect(): void
}

/** Options of {@link redisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** Your ioredis client (`new Redis(url)` or `new Cluster(nodes)`); it stays yours to close. */
  client: RedisClientLike
  /** Prepended to every key and channel; no braces, the store adds its own hash tag. @default 'oauth-interceptors:' */
  prefix?: string | undefined
  /** Encrypts tokens at rest with AES-GCM: a `CryptoKey` or 32 raw bytes. @default undefined (plain JSON) */
  encryptionKey?: EncryptionKey | undefined
  /**
   * Longest time in ms an entry stays in Redis, also for tokens without expiry and for tokens
   * with a refresh token (which outlives the access token: set it to your sessions' lifetime,
   * so that sessions nobody ends leave Redis).
   * @default undefined (until the access token expires; forever without expiry or with a refresh token)
   */
  maxTtl?: number | undefined
  /** Longest wait in ms for one Redis answer; then the manager carries on without Redis. @default 1_000 */
  timeout?: number | undefined
  /** Waiting for another process's refresh re-checks Redis this often in ms, besides pub/sub. @default 250 */
  pollInterval?: number | undefined
  /** Clock in ms; pass the one your token manager uses, if you changed it. @default performance.timeOrigin + performance.now() */
  now?: (() => number) | undefined
}

interface EntryNames {
  token: string
  lock: string
  channel: string
}

// Writes only if no other process holds the refresh lock, so a holder whose lock expired
// (it stalled, or could not renew it) cannot overwrite the token of the process that took over.
const SET_SCRIPT = `local holder = redis.call('GET', KEYS[2])
if holder and ARGV[3] ~= '' and holder ~= ARGV[3] then return 0 end
if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
redis.call('PUBLISH', ARGV[4], 'set')
return 1`

// Only the owner (same fencing token) may release; a stale owner leaves a new holder's lock alone.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
return 1`

const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`

const DOWN = new Set(['reconnecting', 'close', 'end', 'disconnecting'])

/**
 * A {@link SharedTokenStore} over Redis: the processes of a fleet share tokens and refresh them
 * once. Entries expire with their token; a token's keys share one hash tag (Redis Cluster).
 * @example
 * const tokens = createTokenManager({ grant, store: redisTokenStore({ client: new Redis(url) }) })
 */
export class RedisTokenStore implements SharedTokenStore {
  readonly #client: RedisClientLike
  readonly #prefix: string
  readonly #codec: EntryCodec
  readonly #maxTtl: number | undefined
  readonly #timeout: number
  readonly #pollInterval: number
  readonly #now: () => number
  readonly #names = new Map<string, Promise<EntryNames>>()
  /** Fencing token of each lock this store holds, by cache key. */
  readonly #fences = new Map<string, string>()
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #subscriptions = new Map<string, Promise<boolean>>()
  #subscriber: RedisSubscriberLike | undefined
  #closed = false
  /** Once Redis has answered, a connection that is not `ready` is a lost one: fail fast. */
  #answered = false
  /** After a timeout, Redis is skipped for one more `timeout`: a hung server costs one wait per refresh, not one per call. */
  #skipUntil = 0

  constructor(options: RedisTokenStoreOptions) {
    const client = options?.client
    if (typeof client?.call !== 'function' || typeof client.duplicate !== 'function') {
      throw new ConfigError('client', 'expected an ioredis client', 'Pass client: new Redis(url).')
    }
    const prefix = options.prefix ?? 'oauth-interceptors:'
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new ConfigError('prefix', 'braces are not allowed', 'The store adds its own hash tag.')
    }
    this.#client = client
    this.#prefix = prefix
    this.#codec = new EntryCodec(options.encryptionKey)
    this.#maxTtl = duration('maxTtl', options.maxTtl)
    this.#timeout = duration('timeout', options.timeout) ?? 1_000
    this.#pollInterval = duration('pollInterval', options.pollInterval) ?? 250
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now())
  }

  /** The sharing protocol a token manager runs over this store (see `TokenManagerOptions.store`). */
  share(options: StoreSharingOptions): StoreSharing {
    return shareTokens(this, options)
  }

  async get(key: string): Promise<Token | undefined> {
    const names = await this.#namesOf(key)
    return this.#codec.decode(await this.#call(['GET', names.token]), names.token)
  }

  async set(key: string, token: Token): Promise<void> {
    const names = await this.#namesOf(key)
    // A refresh token outlives its access token (a user session idle past it must still be
    // refreshed): such an entry stays until maxTtl, as one without expiry does.
    const untilExpiry =
      token.expiresAt === undefined || token.refreshToken !== undefined
        ? undefined
        : token.expiresAt - this.#now()
    if (untilExpiry !== undefined && untilExpiry < 1) return // nobody could use it any more
    const ttl = Math.ceil(Math.min(untilExpiry ?? Infinity, this.#maxTtl ?? Infinity))
    const value = await this.#codec.encode(token, names.token)
    const fence = this.#fences.get(key) ?? ''
    await this.#call([
      'EVAL',
      SET_SCRIPT,
      2,
      names.token,
      names.lock,
      value,
      Number.isFinite(ttl) ? ttl : 0,
      fence,
      names.channel,
    ])
  }

  async delete(key: string): Promise<void> {
    await this.#call(['DEL', (await this.#namesOf(key)).token])
  }

  /**
   * Takes the lock for a lease of a third of `ttlMs`, renewed while this process holds it, up
   * to `ttlMs` in all: a holder that dies blocks the others for one lease, not for `ttlMs`.
   */
  async acquire(key: string, ttlMs: number): Promise<TokenLock | undefined> {
    const names = await this.#namesOf(key)
    const fence = randomFence()
    const lease = Math.ceil(ttlMs / 3)
    const release = () => this.#call(['EVAL', RELEASE_SCRIPT, 1, names.lock, fence, names.channel])
    // If SET answers after we gave up on it, we hold a lock nobody will use: give it back.
    const taken = await this.#call(['SET', names.lock, fence, 'PX', lease, 'NX'], (late) => {
      if (late === 'OK') release().catch(() => {})
    })
    if (taken !== 'OK') return undefined
    this.#fences.set(key, fence)
    const heldUntil = this.#now() + ttlMs
    let released = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const renewLater = () => {
      timer = setTimeout(async () => {
        const left = Math.ceil(heldUntil - this.#now())
        if (released || left <= 0) return
        // A failed renewal is no error: the lock then expires, and fencing guards the write.
        await this.#call(['EVAL', RENEW_SCRIPT, 1, names.lock, fence, Math.min(lease, left)]).catch(
          () => {},
        )
        if (!released) renewLater()
      }, lease / 2)
      // A held lock must not keep the process alive on its own.
      ;(timer as { unref?: () => void }).unref?.()
    }
    renewLater()
    return {
      release: async () => {
        if (released) return
        released = true
        clearTimeout(timer)
        if (this.#fences.get(key) === fence) this.#fences.delete(key)
        await release()
      },
    }
  }

  async waitForChange(key: string, timeoutMs: number): Promise<void> {
    this.#assertConnected()
    const { channel } = await this.#namesOf(key)
    // Subscribed just now: a change may have been published before, so let the caller look.
    if (await this.#listen(channel)) return
    await new Promise<void>((resolve) => {
      const waiters = this.#waiters.get(channel) ?? new Set()
      this.#waiters.set(channel, waiters)
      const done = () => {
        clearTimeout(timer)
        waiters.delete(done)
        resolve()
      }
      // Polling also covers a holder that died: its lock expires without a message.
      const timer = setTimeout(done, Math.max(0, Math.min(timeoutMs, this.#pollInterval)))
      waiters.add(done)
    })
  }

  /** Closes the store's own pub/sub connection (not your client) and wakes all waiters. */
  async close(): Promise<void> {
    this.#closed = true
    this.#subscriptions.clear()
    for (const waiters of this.#waiters.values()) for (const done of waiters) done()
    this.#subscriber?.disconnect()
    this.#subscriber = undefined
  }

  /** Resolves `true` when this call subscribed to `channel`; `false` if already or if it cannot. */
  async #listen(channel: string): Promise<boolean> {
    const pending = this.#subscriptions.get(channel)
    if (pending !== undefined) return pending.then(() => false)
    if (this.#closed) return false
    if (this.#subscriber === undefined) {
      const subscriber = this.#client.duplicate()
      // It reconnects and resubscribes by itself; meanwhile waits fall back to polling.
      subscriber.on('error', () => {})
      subscriber.on('message', (name) => {
        for (const done of this.#waiters.get(name) ?? []) done()
      })
      this.#subscriber = subscriber
    }
    const subscribing = withTimeout(this.#subscriber.subscribe(channel), this.#timeout).then(
      () => true,
      () => {
        this.#subscriptions.delete(channel) // try again on the next wait
        return false
      },
    )
    this.#subscriptions.set(channel, subscribing)
    return subscribing
  }

  #namesOf(key: string): Promise<EntryNames> {
    let names = this.#names.get(key)
    if (names === undefined) {
      if (this.#names.size >= 1_000) this.#names.clear()
      // Hashed: fixed length, no braces from scopes or URLs, no client ids in the keyspace.
      names = crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)).then((digest) => {
        const tag = Array.from(new Uint8Array(digest).subarray(0, 16), hex).join('')
        const base = `${this.#prefix}{${tag}}`
        return { token: `${base}:token`, lock: `${base}:lock`, channel: `${base}:changed` }
      })
      this.#names.set(key, names)
    }
    return names
  }

  #assertConnected(): void {
    if (performance.now() < this.#skipUntil) {
      throw new RedisStoreError('Redis did not answer in time just before', 'redis_unavailable')
    }
    const status = this.#client.status
    if (DOWN.has(status) || (this.#answered && status !== 'ready' && status !== 'wait')) {
      throw new RedisStoreError(`Redis is not connected (status "${status}")`, 'redis_unavailable')
    }
  }

  /**
   * One command, failing fast: never queued behind a lost connection, never waiting longer
   * than `timeout`. A late answer goes to `onLateAnswer`.
   */
  async #call(
    [command, ...args]: [string, ...(string | number)[]],
    onLateAnswer?: (answer: unknown) => void,
  ): Promise<unknown> {
    this.#assertConnected()
    const pending = this.#client.call(command, ...args)
    try {
      const answer = await withTimeout(pending, this.#timeout)
      this.#answered = true
      return answer
    } catch (error) {
      if (error === TIMED_OUT) {
        this.#skipUntil = performance.now() + this.#timeout
        if (onLateAnswer) pending.then(onLateAnswer, () => {})
        throw new RedisStoreError(
          `Redis did not answer ${command} within ${this.#timeout} ms`,
          'redis_timeout',
        )
      }
      // Only the message: the client's error object may hold the arguments (tokens).
      const message = error instanceof Error ? error.message : String(error)
      throw new RedisStoreError(`Redis ${command} failed: ${message}`, 'redis_error')
    }
  }
}

/**
 * Creates a {@link RedisTokenStore}; pass it as `store` to `createTokenManager`.
 * @example
 * import Redis from 'ioredis'
 * const store = redisTokenStore({ client: new Redis(process.env.REDIS_URL), prefix: 'billing:' })
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  return new RedisTokenStore(options)
}

const TIMED_OUT = Symbol('timed out')

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    // The second hop lets I/O that came in while the event loop was busy settle first: a
    // timer that fires late must not beat an answer that is already there.
    timer = setTimeout(() => {
      timer = setTimeout(() => reject(TIMED_OUT), 0)
    }, ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function duration(option: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      option,
      `expected milliseconds > 0, got ${String(value)}`,
      `Pass e.g. ${option}: 1000, or leave it out.`,
    )
  }
  return value
}

function randomFence(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), hex).join('')
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}
