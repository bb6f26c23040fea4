import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/check-supply-chain.mjs', import.meta.url))

describe('supply chain (installed tree and packed package, checked by name and version)', () => {
  it('has no request, ip 1.x, xml2js < 0.5, old async or debug, and ships nat-upnp/nat-pmp only bundled and patched', () => {
    const r = spawnSync(process.execPath, [script, '--json'], { encoding: 'utf8', timeout: 120_000 })
    const report = JSON.parse(r.stdout) as {
      ok: boolean
      results: Array<{ name: string; ok: boolean; detail: string }>
    }
    expect(report.results.filter((x) => !x.ok)).toEqual([])
    expect(report.results.length).toBeGreaterThanOrEqual(8)
    expect(r.status).toBe(0)
  })
})
