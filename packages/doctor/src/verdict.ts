// The plain-language verdict from the findings: a pure function, tested on its own.
import type { DoctorReport } from './report.js'

type Findings = Pick<DoctorReport, 'gateway' | 'external' | 'mapping' | 'nat'> &
  Partial<Pick<DoctorReport, 'pinhole6'>>

export function verdictOf(f: Findings): DoctorReport['verdict'] {
  const reasons: string[] = []
  if (f.pinhole6?.status === 'ok') {
    reasons.push(
      `Over IPv6 the router opened [${f.pinhole6.address}]:${f.pinhole6.port} on request: IPv6 peers can connect to you directly.`,
    )
  }
  const mapped = f.mapping.status === 'ok'
  const ext = f.mapping.externalAddress
  const publicMapping =
    mapped &&
    typeof ext === 'string' &&
    !f.external.doubleNat &&
    !f.external.addresses.some((a) => a.address === ext && a.privateRange !== undefined)
  if (f.nat.mapping === 'none') {
    reasons.push(
      `The server saw one of this host's own addresses (${f.nat.observed?.address}): there is no NAT in between.`,
    )
    return {
      reachability: 'direct',
      summary: 'Others can connect to you directly (no NAT in front of you; a firewall may still block).',
      reasons,
    }
  }
  if (publicMapping) {
    reasons.push(
      `The router forwarded a test port by ${f.mapping.method?.toUpperCase()} (${ext}:${f.mapping.externalPort}) and took it back.`,
    )
    if (f.mapping.hairpin === 'no')
      reasons.push('The router does not loop back: peers on your own network must use your local address.')
    return {
      reachability: 'direct',
      summary: 'Others can connect to you directly: your router opens ports on request.',
      reasons,
    }
  }
  if (mapped && f.external.doubleNat)
    reasons.push(
      'Your router maps ports, but it sits behind another NAT, so the mapping does not reach the internet.',
    )
  else if (!f.gateway.pcp.answered && !f.gateway.natpmp.answered && !f.gateway.upnp.answered) {
    reasons.push(
      f.gateway.address === null
        ? 'No default gateway was found.'
        : 'The router answers none of PCP, NAT-PMP or UPnP: it opens no ports on request.',
    )
  } else if (f.mapping.status !== 'ok')
    reasons.push(
      `The router speaks a mapping protocol but the test mapping failed (${f.mapping.error ?? f.mapping.status}).`,
    )
  if (f.external.cgnat)
    reasons.push('An address in 100.64.0.0/10 shows your provider puts you behind carrier-grade NAT.')
  switch (f.nat.mapping) {
    case 'preserving':
    case 'endpoint-independent':
      reasons.push(
        `Your NAT keeps one external port per local port (${f.nat.mapping}): hole punching works with peers whose NAT does too.`,
      )
      return {
        reachability: 'hole-punching',
        summary:
          'Others can reach you by hole punching if their NAT is a cone NAT too; otherwise through a relay.',
        reasons,
      }
    case 'sequential':
      reasons.push(
        `Your NAT gives new connections consecutive ports (step ${f.nat.delta}): the next port can be predicted for hole punching.`,
      )
      return {
        reachability: 'hole-punching',
        summary:
          'Others can reach you by hole punching with port prediction if their NAT is a cone NAT; otherwise through a relay.',
        reasons,
      }
    case 'random':
      reasons.push(
        'Your NAT picks a random external port for every connection (symmetric): hole punching cannot predict it.',
      )
      return { reachability: 'relay', summary: 'Others can reach you only through a relay.', reasons }
    default:
      reasons.push(
        f.nat.status === 'skipped'
          ? 'NAT behaviour was not tested: run with --server host:port (a @pyp2p/bootstrap-server).'
          : `NAT behaviour could not be tested (${f.nat.error ?? f.nat.status}).`,
      )
      return { reachability: 'unknown', summary: 'Whether others can reach you is unknown.', reasons }
  }
}
