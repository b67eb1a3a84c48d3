// `pnpm release`: everything a release does short of uploading. Builds every package, runs
// publint and attw on it, checks that each tarball carries LICENSE, README.md and CHANGELOG.md,
// then runs `pnpm publish --dry-run` for every public package. `pnpm release --publish` publishes
// for real (after `pnpm changeset version` and a commit); npm must be logged in for that.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const publish = process.argv.includes('--publish')
const REQUIRED = ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']

const run = (args, options = {}) =>
  execFileSync('pnpm', args, { cwd: root, stdio: 'inherit', ...options })

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => {
    try {
      return !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private
    } catch {
      return false
    }
  })

console.log('--- release: build, publint and attw')
// CI has run the same checks just before (turbo replays them from its cache): print failures only.
run(['check:packages', '--output-logs=errors-only'])

console.log('--- release: tarball contents')
const destination = mkdtempSync(join(tmpdir(), 'oauth-interceptors-pack-'))
const problems = []
try {
  for (const dir of packages) {
    const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', destination], {
      cwd: dir,
      encoding: 'utf8',
    })
    const { name, version, files } = JSON.parse(out)
    const paths = new Set(files.map((file) => file.path))
    const missing = REQUIRED.filter((file) => !paths.has(file))
    if (![...paths].some((path) => path.startsWith('dist/'))) missing.push('dist/')
    if (missing.length > 0) problems.push(`${name}: the tarball lacks ${missing.join(', ')}`)
    console.log(`${name}@${version}: ${paths.size} files${missing.length ? '' : ', all required'}`)
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem)
  process.exit(1)
}

console.log(`--- release: pnpm publish${publish ? '' : ' --dry-run'}`)
// A dry run needs no npm login; npm's "requires you to be logged in" note is then noise, so
// only errors are printed, and the packages pnpm would publish.
run(
  ['-r', 'publish', ...(publish ? [] : ['--dry-run', '--no-git-checks'])],
  publish ? {} : { env: { ...process.env, npm_config_loglevel: 'error' } },
)
