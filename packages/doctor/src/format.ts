// The report for people: short lines, the verdict first.
import type { DoctorReport, ProtocolResult } from './report.js'

const proto = (name: string, r: ProtocolResult, extra = '') =>
  `  ${name.padEnd(8)} ${r.answered ? `answered in ${r.ms} ms${extra}` : `no (${r.error ?? 'no answer'})`}`

export function formatReport(r: DoctorReport): string {
  const out: string[] = []
  out.push(`Verdict: ${r.verdict.summary}`)
  for (const reason of r.verdict.reasons) out.push(`  - ${reason}`)
  out.push('', 'This host:')
  for (const i of r.network.interfaces) out.push(`  ${i.name.padEnd(10)} ${i.address}`)
  for (const g of r.network.defaultRoutes)
    out.push(
      `  default gateway (IPv${g.family}) ${g.gateway} via ${g.iface || '?'}${g.localAddress ? ` from ${g.localAddress}` : ''}`,
    )
  if (r.network.defaultRoutes.length === 0) out.push('  no default gateway')
  out.push('', `Router ${r.gateway.address ?? '(none)'}:`)
  out.push(proto('PCP', r.gateway.pcp))
  out.push(proto('NAT-PMP', r.gateway.natpmp))
  out.push(proto('UPnP', r.gateway.upnp, r.gateway.upnp.version ? ` (IGD v${r.gateway.upnp.version})` : ''))
  out.push('', 'External address:')
  for (const a of r.external.addresses)
    out.push(
      `  ${a.address.padEnd(16)} from ${a.source}${a.privateRange ? ` (private: ${a.privateRange})` : ''}`,
    )
  if (r.external.addresses.length === 0) out.push('  none reported')
  if (r.external.doubleNat) out.push('  double NAT: another NAT sits upstream of your router')
  if (r.external.cgnat) out.push('  carrier-grade NAT (100.64.0.0/10)')
  const m = r.mapping
  out.push('', `Test mapping: ${m.status}`)
  if (m.method) {
    out.push(
      `  ${m.method} TCP ${m.externalAddress ?? '?'}:${m.externalPort} -> port ${m.internalPort}, lease ${m.lifetime} s`,
    )
    out.push(`  removed: ${m.removed ? 'yes' : 'NO'}; hairpin: ${m.hairpin}`)
  } else if (m.error) out.push(`  ${m.error}`)
  out.push('', `IPv6 pinhole: ${r.pinhole6.status}`)
  if (r.pinhole6.address) {
    const removed = r.pinhole6.removed ? 'yes' : 'NO'
    const how = r.pinhole6.method ? `${r.pinhole6.method} ` : ''
    out.push(
      `  ${how}[${r.pinhole6.address}]:${r.pinhole6.port}, lease ${r.pinhole6.lifetime} s; removed: ${removed}`,
    )
  } else if (r.pinhole6.error) out.push(`  ${r.pinhole6.error}`)
  const n = r.nat
  out.push('', `NAT behaviour: ${n.status}${n.server ? ` (server ${n.server})` : ''}`)
  if (n.observed) out.push(`  the server sees you as ${n.observed.address}:${n.observed.port}`)
  if (n.mapping)
    out.push(
      `  mapping: ${n.mapping}${n.delta !== undefined ? ` (step ${n.delta})` : ''}; unsolicited SYN: ${n.filtering}`,
    )
  if (n.error) out.push(`  ${n.error}`)
  out.push('', `Took ${r.durationMs} ms.${r.timedOut.length ? ` Timed out: ${r.timedOut.join(', ')}.` : ''}`)
  return `${out.join('\n')}\n`
}
