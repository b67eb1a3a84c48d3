import * as core from '@oauth-interceptors/core'
import { describe, expect, it } from 'vitest'

describe('@oauth-interceptors/core in the workspace', () => {
  it('resolves to its TypeScript source, so tests need no build', () => {
    expect(import.meta.resolve('@oauth-interceptors/core')).toMatch(
      /\/packages\/core\/src\/index\.ts$/,
    )
  })

  it('exposes the token manager entry points', () => {
    expect(core.createTokenManager).toBeTypeOf('function')
    expect(core.clientCredentials).toBeTypeOf('function')
  })
})
