/**
 * Faults to inject into a running lab, for chaos tests: a cut link (and its repair) and a router
 * reboot. They act only inside the lab's own namespaces, through `lab.exec`.
 *
 * - `cutLink(lab, name)` / `restoreLink(lab, name)`: the uplink of a host (`eth0`) or router (`wan0`)
 *   drops every packet both ways, silently, as a cable cut upstream does: no RST, no ICMP, addresses,
 *   routes and conntrack entries stay (an `nft` table of its own at priority -300, before NAT and
 *   filtering; `ip link set down` would delete the routes). Restoring deletes that table. Both are
 *   idempotent.
 * - `rebootRouter(lab, name)`: a router reboot: its uplink is cut, its NAT state is lost (conntrack
 *   flushed: established flows get new mappings or are dropped), its miniupnpd (if any) restarts
 *   with every mapping gone (`lab.restartUpnp`), then the uplink comes back. Resolves when it serves
 *   again.
 */
import { IF_UPLINK_HOST, IF_UPLINK_ROUTER } from './constants.js'
import { NetlabError } from './errors.js'
import type { Lab } from './types.js'

/** The nft table a cut link lives in (one per namespace; its name is ours alone). */
export const CUT_TABLE = 'netlab_cut'

function uplinkOf(lab: Lab, name: string): string {
  if (lab.routers.some((r) => r.name === name)) return IF_UPLINK_ROUTER
  if (lab.hosts.some((h) => h.name === name)) return IF_UPLINK_HOST
  throw NetlabError.UNKNOWN_NODE(name, [...lab.hosts.map((h) => h.name), ...lab.routers.map((r) => r.name)])
}

async function nft(lab: Lab, where: string, script: string, signal: AbortSignal | undefined): Promise<void> {
  const res = await lab.exec(where, ['nft', '-f', '-'], {
    input: script,
    ...(signal !== undefined && { signal }),
  })
  if (res.code !== 0)
    throw NetlabError.COMMAND_FAILED(['nft', '-f', '-', `(in ${where})`], res.code, res.stderr)
}

/** Drops every packet on `name`'s uplink, both ways, until `restoreLink`. */
export async function cutLink(lab: Lab, name: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const dev = `"${uplinkOf(lab, name)}"`
  // `add table` + `flush table` make it idempotent: a second cut replaces the first.
  const script = [
    `add table inet ${CUT_TABLE}`,
    `flush table inet ${CUT_TABLE}`,
    `table inet ${CUT_TABLE} {`,
    `  chain in { type filter hook prerouting priority -300; policy accept; iifname ${dev} drop; }`,
    `  chain out { type filter hook postrouting priority -300; policy accept; oifname ${dev} drop; }`,
    `  chain local { type filter hook output priority -300; policy accept; oifname ${dev} drop; }`,
    '}',
  ].join('\n')
  await nft(lab, name, script, opts.signal)
}

/** Undoes `cutLink` (a no-op when the link is not cut). */
export async function restoreLink(
  lab: Lab,
  name: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  uplinkOf(lab, name)
  await nft(lab, name, `add table inet ${CUT_TABLE}\ndelete table inet ${CUT_TABLE}`, opts.signal)
}

/** A router reboot: uplink cut, NAT state lost, miniupnpd restarted without its mappings, uplink back. */
export async function rebootRouter(
  lab: Lab,
  name: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const router = lab.router(name)
  await cutLink(lab, name, opts)
  try {
    const flushed = await lab.exec(
      name,
      ['conntrack', '-F'],
      opts.signal === undefined ? {} : { signal: opts.signal },
    )
    // conntrack -F exits 1 with nothing to flush on some versions; anything else is a failure
    if (flushed.code !== 0 && !/0 flow entries/.test(flushed.stderr)) {
      throw NetlabError.COMMAND_FAILED(['conntrack', '-F', `(in ${name})`], flushed.code, flushed.stderr)
    }
    if ((router.spec.upnp ?? 'none') !== 'none') await lab.restartUpnp(name, opts)
  } finally {
    await restoreLink(lab, name, opts)
  }
}
