import type { NextConfig } from 'next'

// The workspace packages are compiled from their TypeScript source (what their "source" export
// condition points at), so `next build` needs no build of the packages first. An app that
// installs them from npm needs none of this.
const source = (path: string) => `../../../packages/${path}`

const nextConfig: NextConfig = {
  turbopack: {
    resolveAlias: {
      '@oauth-interceptors/core/adapter': source('core/src/adapter.ts'),
      '@oauth-interceptors/core/sessions': source('core/src/sessions.ts'),
      '@oauth-interceptors/core': source('core/src/index.ts'),
      '@oauth-interceptors/fetch': source('fetch/src/index.ts'),
    },
  },
}

export default nextConfig
