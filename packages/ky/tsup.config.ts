import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// ky is ESM-only, so this adapter ships ESM only; ky and core stay external.
export default defineConfig({ ...packageBuild, format: ['esm'], clean: true })
