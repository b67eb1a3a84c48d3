/**
 * Which source files make up a bundle of scenario 3, by their share of the minified output:
 *
 *   node --import tsx bench/src/bundle-inputs.ts "export { createTokenManager, clientCredentials } from '@oauth-interceptors/core'"
 *
 * The bytes are esbuild's per-input output bytes (minified, before gzip), from its metafile.
 */
import { gzipSync } from 'node:zlib'
import { bundleOf } from './bundle'

const code =
  process.argv[2] ??
  "export { createTokenManager, clientCredentials } from '@oauth-interceptors/core'"
const output = await bundleOf(code, process.argv.slice(3))
const file = output.outputFiles[0]?.contents ?? new Uint8Array()
const [out] = Object.values(output.metafile.outputs)
const rows = Object.entries(out?.inputs ?? {})
  .map(
    ([path, { bytesInOutput }]) =>
      [path.replace(/^.*?(packages|node_modules)\//, '$1/'), bytesInOutput] as const,
  )
  .sort((a, b) => b[1] - a[1])
process.stdout.write(
  `${file.byteLength} B min, ${gzipSync(file, { level: 9 }).byteLength} B min+gzip\n${rows
    .map(([path, bytes]) => `${String(bytes).padStart(7)}  ${path}`)
    .join('\n')}\n`,
)
