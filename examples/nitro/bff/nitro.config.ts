import { defineNitroConfig } from 'nitropack/config'

export default defineNitroConfig({
  compatibilityDate: '2026-11-01',
  srcDir: 'server',
  preset: 'node-server',
  // The workspace packages are bundled from their TypeScript source (the "source" condition),
  // so the build needs no `pnpm build` of the packages first.
  exportConditions: ['source'],
  externals: { inline: [/@oauth-interceptors\//] },
  imports: false,
})
