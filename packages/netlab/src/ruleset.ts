// The netfilter (nft) ruleset and sysctls that make a namespace a NAT router of a given kind.
import {
  CONNTRACK_TIMEOUT_SYSCTLS,
  IF_BRIDGE,
  IF_UPLINK_ROUTER,
  LOSS_SCALE,
  SEQ_FIRST_PORT,
  SEQ_SPAN,
  SEQ_STEP,
} from './constants.js'
import type { RouterSpec } from './types.js'

/** Table and chain names, shared with the miniupnpd config (miniupnpd adds its rules to the chains
 * named in its config; they must exist first: docs/lab.md). */
export const NFT = {
  filterTable: 'filter',
  natTable: 'nat',
  upnpForwardChain: 'miniupnpd',
  upnpNatChain: 'prerouting_miniupnpd',
  upnpPostroutingChain: 'postrouting_miniupnpd',
} as const

function sequentialPorts(): string {
  return Array.from({ length: SEQ_SPAN }, (_, k) => `${k} : ${SEQ_FIRST_PORT + k * SEQ_STEP}`).join(', ')
}

/** The source-NAT statement for each mapping behaviour (IPv4 only: IPv6 is routed, never translated). */
function natRule(spec: RouterSpec, wanIp: string): string[] {
  const out = `oifname "${IF_UPLINK_ROUTER}" meta nfproto ipv4`
  switch (spec.nat) {
    case 'cone':
      // MASQUERADE keeps the source port when it is free and reuses the mapping for every
      // destination: endpoint-independent mapping (RFC 4787 section 4.1)
      return [`${out} masquerade`]
    case 'symmetric':
      // a fresh random port for each new connection, so per destination (--random-fully)
      return [`${out} masquerade fully-random`]
    case 'sequential':
      // numgen inc counts evaluations; NAT rules run once per new connection (conntrack NEW), so each
      // new mapping takes the next port: SEQ_FIRST, SEQ_FIRST+1, ... Other protocols (ICMP) masquerade.
      // The port goes through a map: nft 1.0.6 stores `numgen ... offset` in host byte order where the
      // NAT port register wants network order (measured: ports came out byte-swapped).
      return [
        `${out} meta l4proto { tcp, udp } snat ip to ${wanIp} : numgen inc mod ${SEQ_SPAN} map { ${sequentialPorts()} }`,
        `${out} masquerade`,
      ]
  }
}

/** The complete ruleset of a router: `nft -f` input, applied atomically. */
export function routerRuleset(spec: RouterSpec, wanIp: string): string {
  const wan = `"${IF_UPLINK_ROUTER}"`
  const lan = `"${IF_BRIDGE}"`
  const loss = spec.loss ?? 0
  const lossPpm = Math.round(loss * LOSS_SCALE)
  const lossRule =
    lossPpm >= LOSS_SCALE
      ? ['counter drop']
      : lossPpm > 0
        ? [`numgen random mod ${LOSS_SCALE} < ${lossPpm} counter drop`]
        : []
  // RFC 5382 REQ-4 asks NATs to drop unsolicited SYNs silently; 'rst' leaves Linux's own answer
  // (a RST from the router's TCP stack, since nothing listens on the WAN address).
  const inputRules =
    spec.inbound === 'drop' ? [`iifname ${wan} tcp flags & (syn | ack) == syn counter drop`] : []
  return `${[
    `table inet ${NFT.filterTable} {`,
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    ...inputRules.map((r) => `    ${r}`),
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    ...lossRule.map((r) => `    ${r}`),
    '    ct state established,related accept',
    `    iifname ${lan} oifname ${wan} accept`,
    `    jump ${NFT.upnpForwardChain}`,
    '  }',
    `  chain ${NFT.upnpForwardChain} {`,
    '  }',
    '}',
    `table inet ${NFT.natTable} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    `    jump ${NFT.upnpNatChain}`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    jump ${NFT.upnpPostroutingChain}`,
    ...natRule(spec, wanIp).map((r) => `    ${r}`),
    '  }',
    `  chain ${NFT.upnpNatChain} {`,
    '  }',
    `  chain ${NFT.upnpPostroutingChain} {`,
    '  }',
    '}',
  ].join('\n')}\n`
}

/** `nft -f` input that deletes every rule miniupnpd added (its chains hold nothing else): what a router
 * reboot loses. miniupnpd leaves them in place when it exits (measured with 2.3.1). */
export function upnpFlushScript(): string {
  return `${[
    `flush chain inet ${NFT.filterTable} ${NFT.upnpForwardChain}`,
    `flush chain inet ${NFT.natTable} ${NFT.upnpNatChain}`,
    `flush chain inet ${NFT.natTable} ${NFT.upnpPostroutingChain}`,
  ].join('\n')}\n`
}

/** sysctl assignments for a router namespace (after the ruleset, which loads conntrack there). */
export function routerSysctls(spec: RouterSpec): string[] {
  const out = ['net.ipv4.ip_forward=1']
  if (spec.ipv6 === true) out.push('net.ipv6.conf.all.forwarding=1')
  if (spec.conntrackTimeout !== undefined) {
    for (const key of CONNTRACK_TIMEOUT_SYSCTLS) out.push(`net.netfilter.${key}=${spec.conntrackTimeout}`)
  }
  return out
}
