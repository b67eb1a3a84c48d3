import { parseArgs } from 'node:util'
import { startDemoEnvironment } from './environment'

// Runs the demo servers until Ctrl-C, for pointing the examples (or curl) at them.
const { values } = parseArgs({
  options: { port: { type: 'string', default: '4400' }, ttl: { type: 'string', default: '60' } },
  allowPositionals: true,
})
const environment = await startDemoEnvironment({
  port: Number(values.port),
  accessTokenTTL: Number(values.ttl),
})
console.log(`Demo servers are running. In another shell:

export TOKEN_URL='${environment.tokenUrl}'
export API_URL='${environment.apiUrl}'
export CLIENT_ID='${environment.clientId}'
export CLIENT_SECRET='${environment.clientSecret}'
export RESOURCE='${environment.resource}'

then e.g. pnpm --filter @oauth-interceptors/example-axios-node-service start. Ctrl-C stops.`)
process.once('SIGINT', () => {
  environment.close().then(() => process.exit(0))
})
