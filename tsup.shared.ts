import type { Options } from 'tsup'

/** Build settings every published package shares; each package's tsup.config.ts adds its formats. */
export const packageBuild = {
  entry: ['src/index.ts'],
  target: 'es2022',
  platform: 'neutral',
  dts: true,
  sourcemap: true,
} satisfies Options
