// The workerd worker (bundled): GET /?cells=<JSON> runs the smoke and answers the results;
// GET /?probe=<URL> fetches that URL with Authorization and nothing of ours.
import { runCells } from './all.mjs'

export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams
    const probe = params.get('probe')
    if (probe) {
      // The platform's fetch alone, with Authorization, on a cross-origin 302.
      const response = await fetch(probe, { headers: { authorization: 'Bearer probe-token' } })
      await response.arrayBuffer()
      return Response.json({ status: response.status })
    }
    const cells = params.get('cells')
    if (!cells) return new Response('ready')
    try {
      return Response.json({ results: await runCells(JSON.parse(cells)) })
    } catch (error) {
      return Response.json({ fatal: String(error?.stack ?? error) })
    }
  },
}
