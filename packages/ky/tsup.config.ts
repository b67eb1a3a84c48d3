import { defineConfig } from 'tsup'

// ky is ESM-only, so this adapter ships ESM only; ky and core stay external.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  sourcemap: true,
  clean: true,
})
