import { rmSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// Both builds write to dist/ concurrently, so clean once here instead of per build.
rmSync('dist', { recursive: true, force: true })

// Two entries share one copy of every class (chunks), so `instanceof` holds across them.
const build = {
  ...packageBuild,
  entry: ['src/index.ts', 'src/adapter.ts', 'src/jwt.ts'],
  splitting: true,
}

export default defineConfig([
  { ...build, format: ['esm'] },
  {
    ...build,
    format: ['cjs'],
    // p-memoize and jose are ESM-only: bundle them (and what they import) so that CommonJS
    // users such as NestJS apps can require() core. The ESM build keeps them as dependencies.
    noExternal: ['p-memoize', 'mimic-function', 'jose'],
  },
])
