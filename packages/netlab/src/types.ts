// The NAT lab's public contract. Other packages' lab tests are written against these types; the
// implementation lives beside this file. Change a shape here only together with its users.

/** How a router maps an inside (address, port) to an outside port. */
export type NatMapping =
  /** port-preserving, endpoint-independent mapping (plain MASQUERADE): the "cone" of the issues */
  | 'cone'
  /** a new random external port per destination (MASQUERADE --random-fully) */
  | 'symmetric'
  /** every new connection (so every new destination) takes the next external port: 20000, 20001, ...
   * (step 1, one counter per router, wrapping after 1000; nft `numgen inc`) */
  | 'sequential'

/** What the router does with an unsolicited inbound SYN on its WAN side. */
export type InboundPolicy = 'rst' | 'drop'

/** miniupnpd in the router: which protocols it serves; 'none' runs no daemon.
 * 'igd2+natpmp': UPnP IGD v2 and NAT-PMP (and PCP); 'igd2': IGD v2 only; 'igd1': IGD v1 only
 * (`force_igd_desc_v1`); 'natpmp': NAT-PMP (and PCP) only. */
export type UpnpMode = 'igd2+natpmp' | 'igd2' | 'igd1' | 'natpmp' | 'none'

export interface RouterSpec {
  nat: NatMapping
  /** default 'rst' (Linux's own answer when nothing listens) */
  inbound?: InboundPolicy
  /** probability 0..1 of dropping each forwarded packet; default 0 */
  loss?: number
  /** seconds; sets nf_conntrack_tcp_timeout_established (and friends) inside the router */
  conntrackTimeout?: number
  /**
   * ms every IPv4 packet arriving on the router's WAN side waits before the router sees it: the
   * one-way latency of its link, inbound (Python 3 holds them: this kernel has no netem). IPv6 is not
   * delayed. Default 0 (none).
   */
  latencyMs?: number
  /** default 'none'. Behind another router (double NAT) the WAN address is private, and miniupnpd
   * 2.3.1 then runs and answers but refuses every mapping, as such routers do in the field. */
  upnp?: UpnpMode
  /** name of the router this one sits behind (double NAT); default: on the internet */
  behind?: string
  /** also route IPv6 (no NAT: a stateful firewall that lets in only what miniupnpd opens, e.g. a PCP
   * MAP of an IPv6 address); the router, its hosts, the internet and the public hosts get IPv6
   * addresses. Only for routers on the internet. Default false */
  ipv6?: boolean
}

export interface LabSpec {
  /** hosts with a public address on the internet bridge, e.g. { bootstrap: {} } */
  publicHosts?: Record<string, Record<string, never>>
  routers?: Record<string, RouterSpec>
  /** hosts behind routers: { alice: { router: 'r1' } } (several may share a router) */
  hosts?: Record<string, { router: string }>
}

export interface LabHost {
  readonly name: string
  /** network namespace name (`ip netns exec <ns> ...`) */
  readonly ns: string
  /** the host's own IPv4 address (public for public hosts, private behind a router) */
  readonly ip: string
  /** its IPv6 address, when its router (or, for public hosts, any router of the lab) has `ipv6` */
  readonly ip6?: string
  /** for hosts behind a router: that router's name */
  readonly router?: string
}

export interface LabRouter {
  readonly name: string
  readonly ns: string
  /** address on the upstream side (the internet bridge, or the parent router's LAN) */
  readonly wanIp: string
  /** address on its LAN side: the default gateway of its hosts */
  readonly lanIp: string
  /** e.g. '10.1.0.0/24' */
  readonly lanSubnet: string
  /** with `ipv6`: its IPv6 addresses on the internet and on its LAN (its hosts' default gateway) */
  readonly wanIp6?: string
  readonly lanIp6?: string
  readonly spec: Readonly<RouterSpec>
  /** when miniupnpd serves UPnP: its root description URL, for `upnpc -u <url>` (skips the
   * two-second SSDP discovery) */
  readonly upnpUrl?: string
}

/** A port mapping miniupnpd holds (from its lease file). */
export interface UpnpMapping {
  protocol: 'TCP' | 'UDP'
  externalPort: number
  internalIp: string
  internalPort: number
  description: string
}

export interface CreateLabOptions {
  signal?: AbortSignal
  /** name prefix instead of a fresh `nl<pid>-<hex>` one (the CLI uses `nlcli-<scenario>`) */
  prefix?: string
  /** keep the lab when this process exits (no exit hook, daemons not tied to this process); the CLI
   * uses it, tests should not */
  persistent?: boolean
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export interface LabProcess {
  readonly pid: number
  /** stdout, line by line, as it arrives. Each iteration starts from the first line (lines already
   * received are replayed, none is lost to a late reader) and ends when stdout closes. */
  readonly lines: AsyncIterable<string>
  /** resolves with the first stdout line matching, searching every line since the process started
   * (so a line that came before the call counts); rejects on exit, abort or timeout (default 30 s) */
  waitForLine(
    match: RegExp | ((line: string) => boolean),
    opts?: { signal?: AbortSignal; timeout?: number },
  ): Promise<string>
  /** the same for stderr (where `debug` output and most daemons' logs go) */
  waitForStderr(match: RegExp, opts?: { signal?: AbortSignal; timeout?: number }): Promise<string>
  /** everything written to stdout / stderr so far */
  stdout(): string
  stderr(): string
  /** writes to the process's stdin */
  write(data: string): void
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** default SIGTERM; a no-op once it has exited */
  kill(signal?: NodeJS.Signals): void
}

export interface Lab {
  /** unique per lab; every namespace name starts with it (links live only inside those namespaces) */
  readonly prefix: string
  /** every host (public ones included) and every router, by name */
  readonly hosts: readonly LabHost[]
  readonly routers: readonly LabRouter[]
  host(name: string): LabHost
  router(name: string): LabRouter
  /** run a command inside a host's (or router's, or 'internet') namespace and wait for it; resolves
   * with its exit code and output whatever the code, rejects on timeout (default 30 s) or abort */
  exec(
    where: string,
    argv: string[],
    opts?: { signal?: AbortSignal; timeout?: number; input?: string },
  ): Promise<ExecResult>
  /** start a long-running command inside a namespace; it is killed by close() and when this process
   * exits (SIGKILL through PR_SET_PDEATHSIG, so even when this process is killed) */
  spawn(where: string, argv: string[], opts?: { env?: Record<string, string>; cwd?: string }): LabProcess
  /** start a TypeScript/JS file with Node (tsx, workspace sources) inside a namespace:
   * `node --import tsx --conditions=@pyp2p/source <script> ...args`, cwd = the script's package */
  spawnNode(
    where: string,
    script: string,
    args?: string[],
    opts?: { env?: Record<string, string> },
  ): LabProcess
  /** conntrack entries of a router, one line each (`conntrack -L` format) */
  conntrack(router: string): Promise<string[]>
  /** port mappings miniupnpd holds in a router (UPnP and NAT-PMP alike; [] without miniupnpd) */
  upnpMappings(router: string): Promise<UpnpMapping[]>
  /**
   * Restarts a router's miniupnpd the way a router reboot does: stops the daemon this lab started
   * (by its PID: SIGTERM, SIGKILL if it has not exited within 5 s), deletes its lease file and its
   * nft mapping rules (miniupnpd keeps both on exit and would reload the lease file), starts it again
   * with the same config and resolves once it logged that it serves again. Every mapping is gone
   * afterwards, the NAT-PMP epoch and the UPnP uptime count from 0 again, the URLs stay the same.
   * Conntrack entries (established connections) survive, unlike in a real reboot. Restarts of one
   * router run one after the other. Rejects with ERR_NO_UPNP (router without miniupnpd),
   * ERR_UPNP_FAILED (it did not come back), ERR_TIMEOUT (it did not stop), ERR_ABORTED, ERR_LAB_CLOSED.
   */
  restartUpnp(router: string, opts?: { signal?: AbortSignal }): Promise<void>
  /** stop every process, delete every namespace and link this lab made; idempotent */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
