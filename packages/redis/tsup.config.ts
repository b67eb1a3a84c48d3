import { rmSync } from 'node:fs'
import { defineConfig } from 'tsup'

// Both builds write to dist/ concurrently, so clean once here instead of per build.
rmSync('dist', { recursive: true, force: true })

const shared = {
  entry: ['src/index.ts'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  sourcemap: true,
} as const

export default defineConfig([
  { ...shared, format: ['esm'] },
  { ...shared, format: ['cjs'] },
])
