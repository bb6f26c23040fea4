// IPv6: can the router open our own address to the internet? A pinhole for our IPv6 address, by PCP
// (a MAP of it) or, when PCP does not answer, by UPnP IGD v2 (WANIPv6FirewallControl AddPinhole),
// made and removed again.
import { once } from 'node:events'
import { createServer } from 'node:net'
import { NatClient } from '@pyp2p/nat'
import { bounded } from './bounded.js'
import { TEST_MAPPING_MS, TEST_MAPPING_TTL_S } from './constants.js'
import type { CheckResult, DoctorReport } from './report.js'

export async function pinholeCheck(
  signal: AbortSignal,
): Promise<{ pinhole6: DoctorReport['pinhole6']; checks: CheckResult[] }> {
  const listener = createServer((s) => s.end())
  listener.listen(0, '::')
  await once(listener, 'listening')
  const port = (listener.address() as { port: number }).port
  // no IPv4 discovery: the pinhole goes to the IPv6 gateway (PCP) or the IGD found over IPv6 (SSDP)
  const nat = new NatClient({ methods: ['pcp', 'upnp'], upnp: false, natpmp: false, pcp: false })
  const pinhole6: DoctorReport['pinhole6'] = { status: 'failed', removed: false }
  const checks: CheckResult[] = []
  try {
    const made = await bounded(
      'ipv6-pinhole',
      TEST_MAPPING_MS,
      (s) => nat.map({ internalPort: port, family: 6, ttl: TEST_MAPPING_TTL_S, signal: s }),
      signal,
    )
    checks.push(made.result)
    pinhole6.status = made.result.status
    const m = made.value
    if (m === undefined) {
      if (made.result.error) pinhole6.error = made.result.error.code
      return { pinhole6, checks }
    }
    Object.assign(pinhole6, {
      method: m.method,
      address: m.internalAddress,
      port: m.externalPort,
      lifetime: m.ttl,
    })
    const removed = await bounded(
      'ipv6-pinhole-removal',
      TEST_MAPPING_MS,
      (s) => nat.unmap(m, { signal: s }),
      signal,
    )
    checks.push(removed.result)
    pinhole6.removed = removed.result.status === 'ok'
    return { pinhole6, checks }
  } finally {
    await nat.close()
    listener.close()
  }
}
