import { defineConfig } from 'tsup'

// Core stays a dependency in both builds (it ships ESM and CommonJS itself), so one copy of
// the token state serves every adapter in an app.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  sourcemap: true,
  clean: true,
})
