import { ConfigError } from '@oauth-interceptors/core'
import { describe, expect, it } from 'vitest'
import { browserTokenStore } from '../src/index'
import { fakeLocks } from './fake-locks'

describe('browserTokenStore options', () => {
  it('names the locks option and the fix when navigator.locks is missing (Node has none)', () => {
    const attempt = () => browserTokenStore()
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(/"locks".*secure context.*https/)
  })

  it('names the channel option when BroadcastChannel is missing', () => {
    const original = globalThis.BroadcastChannel
    // @ts-expect-error: removed to stand in for an environment without it
    delete globalThis.BroadcastChannel
    try {
      expect(() => browserTokenStore({ locks: fakeLocks() })).toThrow(/"channel"/)
    } finally {
      globalThis.BroadcastChannel = original
    }
  })

  it('rejects an empty name and a negative syncTimeout', () => {
    expect(() => browserTokenStore({ name: '', locks: fakeLocks() })).toThrow(/"name"/)
    expect(() => browserTokenStore({ syncTimeout: -1, locks: fakeLocks() })).toThrow(
      /"syncTimeout"/,
    )
  })
})
