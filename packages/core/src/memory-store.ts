import { ConfigError } from './errors'
import type { Token, TokenStore } from './types'

/** A Map that forgets its least recently used entry beyond `maxEntries`. */
export class LruMap<V> {
  readonly #map = new Map<string, V>()
  readonly #max: number

  constructor(maxEntries: number, option = 'maxEntries') {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ConfigError(
        option,
        `expected an integer ≥ 1, got ${String(maxEntries)}`,
        `Pass how many tokens to keep, e.g. ${option}: 1000.`,
      )
    }
    this.#max = maxEntries
  }

  get(key: string): V | undefined {
    const value = this.#map.get(key)
    // Re-insert to mark as recently used; with one key (the common case) there is nothing to reorder.
    if (value !== undefined && this.#map.size > 1) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  set(key: string, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string)
  }

  delete(key: string): void {
    this.#map.delete(key)
  }

  find(predicate: (value: V) => boolean): V | undefined {
    for (const value of this.#map.values()) if (predicate(value)) return value
    return undefined
  }

  get size(): number {
    return this.#map.size
  }
}

/**
 * An in-process `TokenStore`, bounded by least-recent use. Pass one instance as `store` to
 * several managers to let them share tokens within a process.
 */
export class MemoryTokenStore implements TokenStore {
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

  get size(): number {
    return this.#entries.size
  }
}
