import { readdirSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

// Each folder in packages/ is a test project, and so are the integration tests in test/.
const packages = readdirSync(new URL('./packages', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)

export default defineConfig({
  // Workspace packages resolve to their TypeScript source through the "source" export
  // condition, so tests need no build. Node-environment tests resolve through
  // ssr.resolve.conditions; resolve.conditions covers DOM environments. The other entries
  // are Vite's defaults, which a conditions list replaces.
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        },
      })),
      {
        extends: true as const,
        test: { name: 'integration', root: 'test', include: ['**/*.test.ts'] },
      },
    ],
  },
})
