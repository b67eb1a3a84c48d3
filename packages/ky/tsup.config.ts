import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// ky itself is ESM-only, but this adapter imports nothing of ky at run time (only its types),
// so it ships ESM + CommonJS like every adapter: a CommonJS app can require() it and load ky
// with import() (or require() where Node.js loads ES modules synchronously). ky and core stay
// external.
export default defineConfig({ ...packageBuild, format: ['esm', 'cjs'], clean: true })
