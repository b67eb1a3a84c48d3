// CommonJS entry for Node, Bun and Deno: requires the packages that ship CommonJS (core, the
// axios, ofetch, fetch and undici adapters, axios, ofetch and undici themselves), runs the smoke for each cell
// given as JSON on the command line, and prints the results as JSON.
const load = {
  axios: () => ({
    axios: require('axios'),
    oauthInterceptor: require('@oauth-interceptors/axios').oauthInterceptor,
  }),
  ofetch: () => ({
    ofetch: require('ofetch').ofetch,
    oauthOptions: require('@oauth-interceptors/ofetch').oauthOptions,
  }),
  fetch: () => ({ oauthFetch: require('@oauth-interceptors/fetch').oauthFetch }),
  undici: () => ({
    undici: require('undici'),
    oauthInterceptor: require('@oauth-interceptors/undici').oauthInterceptor,
  }),
}

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2)
const exit = (code) => (globalThis.Deno ? globalThis.Deno.exit(code) : process.exit(code))

async function main() {
  const cells = JSON.parse(args[0])
  const core = require('@oauth-interceptors/core')
  // The scenario is plain code without imports; only the packages are required.
  const { smoke } = await import('./smoke.mjs')
  const results = []
  for (const cell of cells) results.push(await smoke({ core, adapter: load[cell.adapter]() }, cell))
  return results
}

main().then(
  (results) => {
    console.log(JSON.stringify({ results }))
    exit(0)
  },
  (error) => {
    console.log(JSON.stringify({ fatal: String(error?.stack ?? error) }))
    exit(1)
  },
)
