import type { Token } from '../types'
import { requireCount } from '../validate'
import {
  type SharedTokenStore,
  type StoreSharing,
  type StoreSharingOptions,
  shareTokens,
} from './store-protocol'

/**
 * A Map that forgets its least recently used entry beyond `maxEntries`. A hit only stamps the
 * entry (re-inserting into a large Map costs microseconds); the scan for the oldest entry runs
 * on an insert beyond the limit, which follows a token request anyway.
 */
export class LruMap<V> {
  readonly #map = new Map<string, { value: V; used: number }>()
  readonly #max: number
  readonly #onEvict: ((key: string, value: V) => void) | undefined
  #tick = 0

  constructor(
    maxEntries: number,
    option = 'maxEntries',
    onEvict?: (key: string, value: V) => void,
  ) {
    this.#max = requireCount(option, maxEntries)
    this.#onEvict = onEvict
  }

  get(key: string): V | undefined {
    const slot = this.#map.get(key)
    if (slot === undefined) return undefined
    slot.used = ++this.#tick
    return slot.value
  }

  set(key: string, value: V): void {
    this.#map.set(key, { value, used: ++this.#tick })
    if (this.#map.size <= this.#max) return
    let oldest: string | undefined
    let oldestUse = Number.POSITIVE_INFINITY
    for (const [candidate, slot] of this.#map) {
      if (slot.used < oldestUse) {
        oldest = candidate
        oldestUse = slot.used
      }
    }
    if (oldest === undefined) return
    const evicted = this.#map.get(oldest)
    this.#map.delete(oldest)
    if (evicted) this.#onEvict?.(oldest, evicted.value)
  }

  delete(key: string): void {
    this.#map.delete(key)
  }

  /** Every key, without stamping any as used. */
  *keys(): IterableIterator<string> {
    yield* this.#map.keys()
  }

  clear(): void {
    this.#map.clear()
  }

  /** Every value, without stamping any as used. */
  *values(): IterableIterator<V> {
    for (const slot of this.#map.values()) yield slot.value
  }

  get size(): number {
    return this.#map.size
  }
}

/**
 * An in-process `TokenStore`, bounded by least-recent use. Pass one instance as `store` to
 * several managers to let them share tokens within a process.
 */
export class MemoryTokenStore implements SharedTokenStore {
  readonly #entries: LruMap<Token>

  /** @param options.maxEntries how many tokens to keep. @default 1000 */
  constructor(options: { maxEntries?: number } = {}) {
    this.#entries = new LruMap(options.maxEntries ?? 1000)
  }

  get(key: string): Token | undefined {
    return this.#entries.get(key)
  }

  set(key: string, token: Token): void {
    this.#entries.set(key, token)
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  /** The sharing protocol a token manager runs over this store. */
  share(options: StoreSharingOptions): StoreSharing {
    return shareTokens(this, options)
  }

  /** How many tokens are kept now. */
  get size(): number {
    return this.#entries.size
  }
}
