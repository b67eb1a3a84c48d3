import { rmSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// Both builds write to dist/ concurrently, so clean once here instead of per build.
rmSync('dist', { recursive: true, force: true })

// Two entries share one copy of every class (chunks), so `instanceof` holds across them.
const build = {
  ...packageBuild,
  entry: [
    'src/index.ts',
    'src/adapter.ts',
    'src/jwt.ts',
    'src/discovery.ts',
    'src/token-exchange.ts',
    'src/dpop.ts',
    'src/sessions.ts',
    'src/mtls.ts',
    'src/revocation.ts',
    'src/store.ts',
  ],
  splitting: true,
}

export default defineConfig([
  { ...build, format: ['esm'] },
  {
    ...build,
    format: ['cjs'],
    // p-memoize is ESM-only: bundle it (and what it imports) so that CommonJS users
    // such as NestJS apps can require() core. The ESM build keeps it as a dependency.
    // jose (ESM-only too) stays external: only core/jwt and core/dpop use it, and their CommonJS
    // build loads it with require(esm) (Node.js 20.19 and later); bundled, the CJS chunk
    // transform breaks it.
    noExternal: ['p-memoize', 'mimic-function'],
  },
])
