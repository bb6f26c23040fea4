/**
 * The sentence `net.info(con).reason` carries for a connection @pyp2p/unl's connector made: which
 * method, why that one applied, how long it took, and what failed before it.
 */
import type { ConnectResult, UNL } from '@pyp2p/unl'

export function connectReason(prefix: string, r: ConnectResult, ours: UNL, theirs: UNL): string {
  const sameLan = ours.wanAddress !== '' && ours.wanAddress === theirs.wanAddress
  let why: string
  switch (r.method) {
    case 'lan':
      why = 'same WAN address: dialled its LAN address'
      break
    case 'direct':
      why = 'it accepts connections (passive): dialled it'
      break
    case 'reverse':
      why = sameLan
        ? 'same WAN address: asked it through the relay to dial our LAN address'
        : 'we accept connections (passive): asked it through the relay to dial us'
      break
    case 'punch':
      why =
        `both nodes are simultaneous (our NAT ${ours.natType}, theirs ${theirs.natType}): ` +
        'hole punched through the bootstrap server'
      break
    case 'relay':
      why = `no other method applied or worked: a circuit through the relay at ${r.relay ?? '?'}`
      break
  }
  const failed = r.attempts.filter((a) => !a.ok && a.skipped !== true).map((a) => `${a.method} failed`)
  const after = failed.length === 0 ? '' : ` (after ${failed.join(', ')})`
  return `${prefix}: ${why} in ${Math.round(r.durationMs)} ms${after}`
}
