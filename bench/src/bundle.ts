/**
 * Scenario 3: bundle size. esbuild bundles each entry (ESM, minified, HTTP client external,
 * Node built-ins external) and the result is gzipped at level 9. Our packages are bundled
 * from their TypeScript source (the `source` export condition): the same code tsup builds.
 */
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

export interface BundleResult {
  name: string
  ours: boolean
  /** What the number covers. */
  what: string
  minified: number
  gzip: number
  /** Packages inside the bundle besides the entry's own. */
  includes: string[]
  /** Goal in gzip bytes, for our packages. */
  goal?: number
  /** Why it could not be bundled (e.g. an adapter not written yet). */
  error?: string
}

interface Entry {
  name: string
  ours: boolean
  what: string
  code: string
  external: string[]
  goal?: number
}

const CORE = '@oauth-interceptors/core'
const builtins = builtinModules.flatMap((name) => [name, `node:${name}`])

// ofetch's own dependencies count as the HTTP client (ufo comes with ofetch).
const OFETCH = ['ofetch', 'ufo', 'destr', 'node-fetch-native']

export const bundleEntries: Entry[] = [
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: 'every export',
    code: `export * from '${CORE}'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: 'createTokenManager + clientCredentials (tree-shaken): the typical import',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'`,
    external: [],
    goal: 4096,
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: '… + privateKeyJwt from core/jwt (jose included)',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'\nexport { privateKeyJwt } from '${CORE}/jwt'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: '… + tlsClientAuth from core/mtls',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'\nexport { tlsClientAuth } from '${CORE}/mtls'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: '… + revocation from core/revocation',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'\nexport { revocation } from '${CORE}/revocation'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: '… + sharedStore from core/store (a store of your own)',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'\nexport { sharedStore } from '${CORE}/store'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: 'createTokenManager + tokenExchange from core/token-exchange',
    code: `export { createTokenManager } from '${CORE}'\nexport { tokenExchange } from '${CORE}/token-exchange'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: 'createTokenManager + clientCredentials + dpop from core/dpop (jose included)',
    code: `export { createTokenManager, clientCredentials } from '${CORE}'\nexport { dpop } from '${CORE}/dpop'`,
    external: [],
  },
  {
    name: '@oauth-interceptors/core',
    ours: true,
    what: 'createTokenManager + userTokens from core/sessions (a BFF)',
    code: `export { createTokenManager } from '${CORE}'\nexport { userTokens } from '${CORE}/sessions'`,
    external: [],
  },
  ...(
    [
      ['axios', ['axios']],
      ['ky', ['ky']],
      ['ofetch', OFETCH],
      ['fetch', []],
      ['undici', ['undici']],
    ] as const
  ).flatMap(([adapter, client]): Entry[] => [
    {
      name: `@oauth-interceptors/${adapter}`,
      ours: true,
      what: 'adapter alone (core external)',
      code: `export * from '@oauth-interceptors/${adapter}'`,
      external: [...client, CORE],
      goal: 1536,
    },
    {
      name: `@oauth-interceptors/${adapter}`,
      ours: true,
      what: 'adapter + core: what an app ships',
      code: `export * from '@oauth-interceptors/${adapter}'`,
      external: [...client],
    },
  ]),
  {
    name: '@oauth-interceptors/otel',
    ours: true,
    what: 'instrument (@opentelemetry/api and core external)',
    code: `export { instrument } from '@oauth-interceptors/otel'`,
    external: ['@opentelemetry/api', CORE],
  },
  {
    name: '@oauth-interceptors/browser',
    ours: true,
    what: 'browserTokenStore (core external)',
    code: `export { browserTokenStore } from '@oauth-interceptors/browser'`,
    external: [CORE],
  },
  {
    name: 'axios-auth-refresh 5',
    ours: false,
    what: 'package',
    code: `export * from 'axios-auth-refresh'`,
    external: ['axios'],
  },
  {
    name: '@badgateway/oauth2-client 3',
    ours: false,
    what: 'OAuth2Client + OAuth2Fetch',
    code: `export { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'`,
    external: [],
  },
  {
    name: 'axios-oauth-client 2',
    ours: false,
    what: 'package (token getters only)',
    code: `export * from 'axios-oauth-client'`,
    external: ['axios'],
  },
  {
    name: 'axios-token-interceptor 0.2',
    ours: false,
    what: 'package (with its dependency lock)',
    code: `export { default } from 'axios-token-interceptor'`,
    external: ['axios'],
  },
  {
    name: 'undici-oidc-interceptor 0.6',
    ours: false,
    what: 'package (with fast-jwt; Node only)',
    code: `export * from 'undici-oidc-interceptor'`,
    external: ['undici'],
  },
]

function packageOf(path: string): string | undefined {
  const workspace = /(?:^|\/)packages\/([^/]+)\/src\//.exec(path)
  if (workspace) return `@oauth-interceptors/${workspace[1]}`
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(path)
  return match?.[1]
}

/**
 * Bundles `code` as this scenario does: ESM, minified, `external` and Node built-ins left out,
 * our packages from their TypeScript source. bundle-inputs.ts reads the same build.
 */
export function bundleOf(code: string, external: readonly string[] = []) {
  return build({
    stdin: {
      contents: code,
      resolveDir: fileURLToPath(new URL('..', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    conditions: ['source'],
    external: [...external, ...builtins],
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
}

export async function runBundles(): Promise<BundleResult[]> {
  const results: BundleResult[] = []
  for (const entry of bundleEntries) {
    let output: Awaited<ReturnType<typeof bundleOf>>
    try {
      output = await bundleOf(entry.code, entry.external)
    } catch (error) {
      const text =
        error instanceof Error ? error.message.split('\n').slice(0, 2).join(' ') : String(error)
      results.push({
        name: entry.name,
        ours: entry.ours,
        what: entry.what,
        minified: Number.NaN,
        gzip: Number.NaN,
        includes: [],
        error: text,
      })
      continue
    }
    const code = output.outputFiles[0]?.contents ?? new Uint8Array()
    const own = entry.name.replace(/ \d.*$/, '')
    const includes = new Set<string>()
    for (const input of Object.keys(output.metafile.inputs)) {
      const name = packageOf(input)
      if (name && name !== own) includes.add(name)
    }
    results.push({
      name: entry.name,
      ours: entry.ours,
      what: entry.what,
      minified: code.byteLength,
      gzip: gzipSync(code, { level: 9 }).byteLength,
      includes: [...includes].sort(),
      ...(entry.goal === undefined ? {} : { goal: entry.goal }),
    })
  }
  return results
}
