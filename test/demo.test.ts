import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// `pnpm demo` as CI would see it: no TTY, a short run, and exit code 0.
const demo = fileURLToPath(new URL('../examples/demo/cli/', import.meta.url))

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'src/main.ts', ...args],
      { cwd: demo, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        })
      },
    )
  })
}

describe('pnpm demo', () => {
  it('runs every client against oidc-provider, prints the table and exits 0', async () => {
    const { code, stdout, stderr } = await runDemo(['--duration', '3', '--concurrency', '4'])

    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).not.toContain('\r')
    for (const client of ['axios', 'ky', 'ofetch', 'fetch', 'naive client (baseline)']) {
      expect(stdout).toMatch(
        new RegExp(`^${client.replace(/[()]/g, '\\$&')} +[\\d,]+ +[\\d,]+ +[\\d,]+ +0$`, 'm'),
      )
    }
    expect(stdout).toContain('Errors: 0. Every request through the adapters succeeded.')
  }, 90_000)

  it('rejects a bad option with exit code 2 and the usage', async () => {
    const { code, stderr } = await runDemo(['--concurrency', 'many'])

    expect(code).toBe(2)
    expect(stderr).toContain('--concurrency must be a number')
    expect(stderr).toContain('Usage: pnpm demo')
  })
})
