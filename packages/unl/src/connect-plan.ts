/**
 * Which methods `connect()` tries, in which order: a pure function of the two UNLs and what this node
 * can do, so both ends reach the same decision without talking.
 */
import type { AttemptReport, ConnectMethod } from './errors.js'
import { ipv6Of } from './ipv6-extension.js'
import { isMaster, type UNL } from './unl.js'

export interface PlannedMethod {
  method: ConnectMethod
  /** For `lan` and `direct`: where to dial. */
  host?: string
  port?: number
}

export interface ConnectPlan {
  methods: PlannedMethod[]
  /** Methods that do not apply, each with the reason (they appear in failure reports). */
  skipped: AttemptReport[]
}

export interface Capabilities {
  /** A message transport is available to ask for a reverse connect. */
  reverse: boolean
  /** A puncher is available. */
  punch: boolean
  /** A relayer is available (default false). */
  relay?: boolean
  /** With a relayer: why it cannot ask for a circuit to them (no relay known), or undefined when it can. */
  relayUnavailable?: string | undefined
}

/**
 * The original's rules, made deterministic:
 * - same WAN address: both are on one LAN, dial the LAN address (hairpin: either side may listen);
 * - `direct` when they are passive (accept connections), `reverse` when we are passive and can ask
 *   them through the relay to dial us; when both apply, the master (larger UNL) dials and the other
 *   asks to be dialled, so two nodes connecting to each other at once both end up using one direction;
 * - `punch` when both are simultaneous;
 * - `relay` last, whatever the node types: a circuit through a relay where they hold a reservation
 *   (@pyp2p/relay) works from behind any NAT, but costs the relay's bandwidth, so it is the fallback
 *   when the methods before it failed, and the only method when none applies (two symmetric NATs).
 */
export function planConnect(ours: UNL, theirs: UNL, can: Capabilities): ConnectPlan {
  const skipped: AttemptReport[] = []
  const skip = (method: ConnectMethod, why: string): void => {
    skipped.push({ method, ok: false, skipped: true, durationMs: 0, error: new Error(why) })
  }
  const sameLan = ours.wanAddress !== '' && ours.wanAddress === theirs.wanAddress
  const master = isMaster(ours, theirs)
  let dial: PlannedMethod | undefined
  let ask: PlannedMethod | undefined

  if (sameLan) {
    if (theirs.lanAddress === '' || theirs.port === 0)
      skip('lan', 'same WAN address, but they list no LAN address and port')
    else dial = { method: 'lan', host: theirs.lanAddress, port: theirs.port }
    if (ours.lanAddress === '' || ours.port === 0)
      skip('reverse', 'we list no LAN address and port to be dialled on')
  } else {
    if (theirs.nodeType !== 'passive')
      skip('direct', `they do not accept connections (node type ${theirs.nodeType})`)
    else if (theirs.wanAddress === '') skip('direct', 'their UNL has no WAN address')
    else dial = { method: 'direct', host: theirs.wanAddress, port: theirs.publicPort }
    if (ours.nodeType !== 'passive')
      skip('reverse', `we do not accept connections (node type ${ours.nodeType})`)
    else if (ours.wanAddress === '') skip('reverse', 'our UNL has no WAN address for them to dial')
  }
  const reverseFits = sameLan
    ? ours.lanAddress !== '' && ours.port !== 0
    : ours.nodeType === 'passive' && ours.wanAddress !== ''
  if (reverseFits) {
    if (!can.reverse) skip('reverse', 'no message transport (relay) to send the request through')
    else if (!theirs.hasNodeId) skip('reverse', 'their UNL has no node id to address the request to')
    else ask = { method: 'reverse' }
  }

  const methods: PlannedMethod[] = []
  if (dial !== undefined && ask !== undefined) methods.push(...(master ? [dial, ask] : [ask, dial]))
  else if (dial !== undefined) methods.push(dial)
  else if (ask !== undefined) methods.push(ask)
  // IPv6 (TLV_IPV6_ADDRESS): when both list one, a passive peer is also dialled there, at its
  // listening port (IPv6 has no NAT), right after its WAN address (so IPv4 peers see no change).
  const theirs6 = ipv6Of(theirs)
  if (!sameLan && theirs.nodeType === 'passive' && theirs6 !== undefined && ipv6Of(ours) !== undefined) {
    const at = dial !== undefined ? methods.indexOf(dial) + 1 : ask !== undefined && !master ? 1 : 0
    methods.splice(at, 0, { method: 'direct', host: theirs6, port: theirs.port })
    const noWan = skipped.findIndex((r) => r.method === 'direct')
    if (noWan !== -1) skipped.splice(noWan, 1)
  }

  if (ours.nodeType === 'simultaneous' && theirs.nodeType === 'simultaneous') {
    if (can.punch) methods.push({ method: 'punch' })
    else skip('punch', 'no puncher configured')
  } else {
    skip('punch', 'hole punching needs both nodes to be simultaneous')
  }

  if (can.relay !== true) skip('relay', 'no relayer configured')
  else if (can.relayUnavailable !== undefined) skip('relay', can.relayUnavailable)
  else methods.push({ method: 'relay' })
  return { methods, skipped }
}
