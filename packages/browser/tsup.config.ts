import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.shared'

// core (dependency) stays external.
export default defineConfig({ ...packageBuild, format: ['esm', 'cjs'], clean: true })
