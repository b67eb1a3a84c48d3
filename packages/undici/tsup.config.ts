import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// The HTTP client (peer) and core (dependency) stay external: one copy of the token state
// serves every adapter in an app, from ESM and CommonJS alike.
export default defineConfig({ ...packageBuild, format: ['esm', 'cjs'], clean: true })
