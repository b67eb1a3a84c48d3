import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// ioredis (peer) and core (dependency) stay external.
export default defineConfig({ ...packageBuild, format: ['esm', 'cjs'], clean: true })
