// ESM entry for Node, Bun and Deno: imports the packages as a user's module would, runs the
// smoke for each cell given as JSON on the command line, and prints the results as JSON.
import { smoke } from './smoke.mjs'

const load = {
  axios: async () => ({
    axios: (await import('axios')).default,
    oauthInterceptor: (await import('@oauth-interceptors/axios')).oauthInterceptor,
  }),
  ky1: async () => ({
    ky: (await import('ky')).default,
    oauthOptions: (await import('@oauth-interceptors/ky')).oauthOptions,
  }),
  ky2: async () => ({
    ky: (await import('ky2')).default,
    oauthOptions: (await import('@oauth-interceptors/ky')).oauthOptions,
  }),
  ofetch: async () => ({
    ofetch: (await import('ofetch')).ofetch,
    oauthOptions: (await import('@oauth-interceptors/ofetch')).oauthOptions,
  }),
  fetch: async () => ({ oauthFetch: (await import('@oauth-interceptors/fetch')).oauthFetch }),
  undici: async () => ({
    undici: await import('undici'),
    oauthInterceptor: (await import('@oauth-interceptors/undici')).oauthInterceptor,
  }),
}

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2)
const exit = (code) => (globalThis.Deno ? globalThis.Deno.exit(code) : process.exit(code))
try {
  const cells = JSON.parse(args[0])
  const core = await import('@oauth-interceptors/core')
  const results = []
  for (const cell of cells) {
    results.push(await smoke({ core, adapter: await load[cell.adapter]() }, cell))
  }
  console.log(JSON.stringify({ results }))
  exit(0)
} catch (error) {
  console.log(JSON.stringify({ fatal: String(error?.stack ?? error) }))
  exit(1)
}
