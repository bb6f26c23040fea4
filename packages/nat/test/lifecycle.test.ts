import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { discoverGateways } from '../src/discovery.js'
import { NatClient } from '../src/nat-client.js'
import { natpmpExternalAddress } from '../src/natpmp-client.js'
import { startFakeIgd } from './helpers/fake-igd.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'

const udpCount = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
/**
 * Open UDP handles. A closed dgram socket emits 'close' before libuv has freed its handle (one loop
 * turn later), so let the loop turn a few times first; a handle still open after that is a leak.
 */
async function udpSockets(expected: number): Promise<number> {
  for (let i = 0; i < 20 && udpCount() !== expected; i++)
    await new Promise((resolve) => setImmediate(resolve))
  return udpCount()
}
const silent = { interfaces: ['lo'], natpmp: false, ssdpTarget: { address: '127.0.0.1', port: 9 } } as const

describe('resources are released on every path', () => {
  it('SSDP and NAT-PMP sockets are closed after success, timeout, refusal and abort', async () => {
    const before = udpCount()
    const igd = await startFakeIgd({ version: 2 })
    const pmp = await startFakeNatPmp()
    const baseline = udpCount() // the two fakes' own sockets
    try {
      await discoverGateways({
        interfaces: ['lo'],
        natpmpGateways: [pmp.address],
        ssdpTarget: igd.ssdpTarget,
        timeout: 5_000,
      })
      expect(await udpSockets(baseline)).toBe(baseline)
      await discoverGateways({ ...silent, timeout: 200 })
      expect(await udpSockets(baseline)).toBe(baseline)
      const ac = new AbortController()
      const p = discoverGateways({ ...silent, signal: ac.signal })
      ac.abort()
      await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(await udpSockets(baseline)).toBe(baseline)
      pmp.set({ silent: true })
      await expect(natpmpExternalAddress(pmp.address, { timeout: 300 })).rejects.toMatchObject({
        code: 'ERR_TIMEOUT',
      })
      expect(await udpSockets(baseline)).toBe(baseline)
      // nothing listens on 5351 at this loopback address: ICMP port unreachable, refused at once
      await expect(natpmpExternalAddress('127.0.0.1', { timeout: 5_000 })).rejects.toMatchObject({
        code: 'ERR_GATEWAY',
      })
      expect(await udpSockets(baseline)).toBe(baseline)
    } finally {
      pmp.close()
      await igd.close()
    }
    expect(await udpSockets(before)).toBe(before)
  })

  it('close() ends a map() still discovering, and is idempotent', async () => {
    const nat = new NatClient({ ...silent, timeout: 60_000 })
    const pending = nat.map({ internalPort: 5000 })
    const closing = nat.close()
    expect(nat.close()).toBe(closing)
    await closing
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await expect(nat.externalIp()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('keeps the process alive while discovery waits with no socket open (bug: unref timers let it exit)', () => {
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url))
    const script = `const { discoverGateways } = await import(${JSON.stringify(index)}); const r = await discoverGateways({ upnp: false, natpmp: false, timeout: 300 }); console.log('resolved', r.length)`
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(r.stdout.trim()).toBe('resolved 0')
  })

  it('rejects bad arguments with ERR_INVALID_ARGUMENT before any traffic', async () => {
    const nat = new NatClient(silent)
    for (const bad of [
      { internalPort: 0 },
      { internalPort: 70000 },
      { internalPort: 80, ttl: 1 },
      { internalPort: 80, externalPort: 1.5 },
    ]) {
      await expect(nat.map(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
    await nat.close()
  })
})
