// Every package, imported statically, for the bundled runtimes (the browser page and the worker).
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { browserTokenStore } from '@oauth-interceptors/browser'
import * as core from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { oauthOptions as kyOptions } from '@oauth-interceptors/ky'
import { oauthOptions as ofetchOptions } from '@oauth-interceptors/ofetch'
import axios from 'axios'
import ky1 from 'ky'
import ky2 from 'ky2'
import { ofetch } from 'ofetch'
import { smoke } from './smoke.mjs'

const adapters = {
  axios: { axios, oauthInterceptor },
  ky1: { ky: ky1, oauthOptions: kyOptions },
  ky2: { ky: ky2, oauthOptions: kyOptions },
  ofetch: { ofetch, oauthOptions: ofetchOptions },
  fetch: { oauthFetch },
  store: { oauthFetch, browserTokenStore },
}

/** Runs the smoke for each of `cells` in turn. */
export async function runCells(cells) {
  const results = []
  for (const cell of cells)
    results.push(await smoke({ core, adapter: adapters[cell.adapter] }, cell))
  return results
}
