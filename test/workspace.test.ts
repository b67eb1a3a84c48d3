import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as core from '@oauth-interceptors/core'
import { describe, expect, it } from 'vitest'

describe('@oauth-interceptors/core in the workspace', () => {
  it('resolves to its TypeScript source, so tests need no build', () => {
    expect(import.meta.resolve('@oauth-interceptors/core')).toMatch(
      /\/packages\/core\/src\/index\.ts$/,
    )
  })

  it('exposes the token manager entry points', () => {
    expect(core.createTokenManager).toBeTypeOf('function')
    expect(core.clientCredentials).toBeTypeOf('function')
  })
})

const root = new URL('../', import.meta.url)
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'))
const examples = readdirSync(new URL('examples/', root)).map((name) => `examples/${name}`)
const workspacePackages = ['packages', ...examples]
  .flatMap((folder) =>
    readdirSync(new URL(`${folder}/`, root)).map((name) => `${folder}/${name}/package.json`),
  )
  .filter((path) => existsSync(new URL(path, root)))
  .map((path) => ({ path, json: readJson(path) }))

describe('the README, as a newcomer follows it', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8')

  it('starts each example with the name of a workspace package that has a start script', () => {
    const filters = [...readme.matchAll(/pnpm --filter (\S+) start/g)].map((match) => match[1])
    expect(filters.length).toBeGreaterThanOrEqual(5)
    for (const name of filters) {
      const found = workspacePackages.find(({ json }) => json.name === name)
      expect(found?.json.scripts?.start, name).toBeTypeOf('string')
    }
  })

  it('every published package declares its repository, homepage, bugs and keywords', () => {
    const published = workspacePackages.filter(({ json }) => !json.private)
    expect(published.map(({ json }) => json.name).sort()).toEqual(
      ['axios', 'browser', 'core', 'fetch', 'ky', 'ofetch', 'otel', 'redis', 'undici'].map(
        (n) => `@oauth-interceptors/${n}`,
      ),
    )
    for (const { path, json } of published) {
      expect(json.repository, path).toEqual({
        type: 'git',
        url: 'git+https://github.com/oauth-interceptors/oauth-interceptors.git',
        directory: path.replace('/package.json', ''),
      })
      expect(json.homepage, path).toMatch(/^https:\/\/github\.com\/oauth-interceptors\//)
      expect(json.bugs?.url, path).toMatch(/\/issues$/)
      expect(json.keywords?.length, path).toBeGreaterThan(0)
      expect(json.license, path).toBe('MIT')
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) {
        expect(json.files, path).toContain(file)
        expect(existsSync(new URL(path.replace('package.json', file), root)), file).toBe(true)
      }
    }
  })
})
