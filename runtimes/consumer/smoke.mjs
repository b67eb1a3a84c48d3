// The one smoke scenario, run through one adapter on one runtime. Plain JavaScript with no
// imports: the entry of each runtime hands it the packages it imported (ESM) or required
// (CommonJS), so the scenario is the same code everywhere. It only sends requests and tells the
// servers where each step ends; the servers record what arrived, and the harness judges that.

/** Concurrent requests per burst. */
const BURST = 8

/**
 * @param {object} lib the installed packages: core, and the adapter with its client
 * @param {object} cell { client, adapter, mode: 'bearer' | 'static', browser, urls, secret, apiKey }
 */
export async function smoke(lib, cell) {
  const { urls, client } = cell
  const control = (action, extra = '') =>
    fetch(`${urls.token}/control/${action}?client=${client}${extra}`).then((r) => r.text())
  const mark = (step) => control('mark', `&step=${step}`)

  // A clock the scenario moves, so "expiry" needs no waiting.
  let clock = 1_000_000
  const manager = lib.core.createTokenManager({
    grant: lib.core.clientCredentials({
      tokenUrl: `${urls.token}/oauth/token`,
      clientId: client,
      clientSecret: cell.secret,
    }),
    now: () => clock,
    // The browser store (Web Locks + BroadcastChannel) under the fetch adapter.
    ...(cell.adapter === 'store' && { store: lib.adapter.browserTokenStore({ name: client }) }),
  })
  const config =
    cell.mode === 'static' ? { manager, headers: { 'x-api-key': cell.apiKey } } : { manager }
  const api = makeClient(lib, cell, config)
  const q = `cell=${client}`
  const burst = () => Promise.all(Array.from({ length: BURST }, () => api.get(`/data?${q}`)))
  const steps = {}

  steps.cold = await burst()
  await mark('cold')
  if (cell.mode === 'bearer') {
    await control('revoke')
    steps.revoke = await burst()
    await mark('revoke')
    // 30 s before the 3600 s token expires: inside the refresh window (60 s before expiry).
    clock += 3_570_000
    steps.expiry = await burst()
    await mark('expiry')
  }
  steps.foreign = [await api.get(`${urls.foreign}/direct?${q}`)]
  steps.redirect = [await api.get(`/redirect?${q}`)]
  await mark('end')

  let tokenRedirect
  if (cell.mode === 'bearer') {
    // A token endpoint that redirects: the request is refused, the Location never reached.
    const moved = lib.core.createTokenManager({
      grant: lib.core.clientCredentials({
        tokenUrl: `${urls.token}/moved/oauth/token?tenant=t-9`,
        clientId: `${client}-moved`,
        clientSecret: cell.secret,
      }),
      retry: false,
    })
    tokenRedirect = await moved.getToken().then(
      () => ({ name: 'no error' }),
      (error) => ({
        name: error?.name,
        code: error?.code,
        status: error?.status,
        message: String(error?.message),
      }),
    )
  }
  return { steps, tokenRedirect }
}

/** What a call came back with: its status (0 when the client rejected without a response). */
async function settle(promise, statusOf) {
  try {
    return { status: await promise }
  } catch (error) {
    const status = statusOf(error)
    if (typeof status === 'number') return { status }
    return { status: 0, error: `${error?.name}: ${error?.message}` }
  }
}

/** The adapter on its client, as the README shows it, with one `get(pathOrUrl)`. */
function makeClient(lib, cell, config) {
  const base = cell.urls.api
  const absolute = (path) => (path.startsWith('http') ? path : `${base}${path}`)
  switch (cell.adapter) {
    case 'axios': {
      const { axios, oauthInterceptor } = lib.adapter
      // In browsers axios' default XMLHttpRequest adapter cannot stop a redirect, so with static
      // headers the interceptor asks for the fetch adapter (see the axios README).
      const adapter = cell.browser && cell.mode === 'static' ? { adapter: 'fetch' } : {}
      const instance = axios.create({ baseURL: base, ...adapter })
      oauthInterceptor(config).attach(instance)
      return {
        get: (path) =>
          settle(
            instance.get(path).then((r) => r.status),
            (e) => e?.response?.status,
          ),
      }
    }
    case 'ky1':
    case 'ky2': {
      const { ky, oauthOptions } = lib.adapter
      // ky 1 calls its base URL prefixUrl; ky 2 calls it baseUrl (or prefix).
      const option = cell.adapter === 'ky1' ? 'prefixUrl' : 'baseUrl'
      const root = `${base}/`
      const instance = ky.create({ [option]: root, ...oauthOptions(config, { [option]: root }) })
      return {
        get: (path) =>
          settle(
            path.startsWith('http')
              ? instance(path, option === 'prefixUrl' ? { prefixUrl: '' } : {}).then(
                  (r) => r.status,
                )
              : instance(path.slice(1)).then((r) => r.status),
            (e) => e?.response?.status,
          ),
      }
    }
    case 'ofetch': {
      const { ofetch, oauthOptions } = lib.adapter
      const instance = ofetch.create(oauthOptions(config, { baseURL: base }))
      return {
        get: (path) =>
          settle(
            instance.raw(path).then((r) => r.status),
            (e) => e?.response?.status,
          ),
      }
    }
    case 'fetch':
    case 'store': {
      const authedFetch = lib.adapter.oauthFetch(config, { baseUrl: base })
      return {
        get: (path) =>
          settle(
            authedFetch(absolute(path)).then(async (r) => {
              await r.arrayBuffer()
              return r.status
            }),
            () => undefined,
          ),
      }
    }
    case 'undici': {
      const { undici, oauthInterceptor } = lib.adapter
      // A dispatcher has no base URL: the API's origin is named. The redirect interceptor after
      // ours, as its README shows, so every hop passes through it.
      const dispatcher = new undici.Agent().compose(
        oauthInterceptor({ ...config, origins: [base] }),
        undici.interceptors.redirect({ maxRedirections: 5 }),
      )
      return {
        get: (path) =>
          settle(
            undici.request(absolute(path), { dispatcher }).then(async (r) => {
              await r.body.dump()
              return r.statusCode
            }),
            () => undefined,
          ),
      }
    }
    default:
      throw new Error(`unknown adapter ${cell.adapter}`)
  }
}
