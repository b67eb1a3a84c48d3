import { rmSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// Both builds write to dist/ concurrently, so clean once here instead of per build.
rmSync('dist', { recursive: true, force: true })

export default defineConfig([
  { ...packageBuild, format: ['esm'] },
  {
    ...packageBuild,
    format: ['cjs'],
    // p-memoize is ESM-only: bundle it (and what it imports) so that CommonJS users
    // such as NestJS apps can require() core. The ESM build keeps it as a dependency.
    noExternal: ['p-memoize', 'mimic-function'],
  },
])
