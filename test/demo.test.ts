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
    const rows = new Map<string, number[]>()
    for (const client of ['axios', 'ky', 'ofetch', 'fetch', 'naive client (baseline)']) {
      const row = stdout.match(
        new RegExp(
          `^${client.replace(/[()]/g, '\\$&')} +([\\d,]+) +([\\d,]+) +([\\d,]+) +(\\d+)$`,
          'm',
        ),
      )
      expect(row, client).not.toBeNull()
      rows.set(
        client,
        (row ?? []).slice(1).map((cell) => Number(cell.replaceAll(',', ''))),
      )
    }
    // The point of the demo: token requests ≪ requests, and fewer than the naive client makes.
    const naiveTokenRequests = rows.get('naive client (baseline)')?.[2] ?? 0
    for (const client of ['axios', 'ky', 'ofetch', 'fetch']) {
      const [requests = 0, , tokenRequests = 0, errors] = rows.get(client) ?? []
      expect(errors, client).toBe(0)
      expect(tokenRequests * 10, client).toBeLessThan(requests)
      expect(tokenRequests, client).toBeLessThan(naiveTokenRequests)
    }
    expect(stdout).toContain('Errors: 0. Every request through the adapters succeeded.')
    // A short run still revokes tokens while it sends requests, and says how many: the
    // adapters then recover the 401s those revocations cause.
    const revoked = Number(stdout.match(/revocation rounds? \((\d+) tokens? revoked\)/)?.[1])
    expect(revoked).toBeGreaterThan(0)
    const recovered = ['axios', 'ky', 'ofetch', 'fetch'].reduce(
      (total, client) => total + (rows.get(client)?.[1] ?? 0),
      0,
    )
    expect(recovered).toBeGreaterThan(0)
  }, 90_000)

  it('rejects a bad option with exit code 2 and the usage', async () => {
    const { code, stderr } = await runDemo(['--concurrency', 'many'])

    expect(code).toBe(2)
    expect(stderr).toContain('--concurrency must be a number')
    expect(stderr).toContain('Usage: pnpm demo')
  })
})
