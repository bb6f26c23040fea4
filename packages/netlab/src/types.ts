// The NAT lab's public contract. Other packages' lab tests are written against these types; the
// implementation lives beside this file. Change a shape here only together with its users.

/** How a router maps an inside (address, port) to an outside port. */
export type NatMapping =
  /** port-preserving, endpoint-independent mapping (plain MASQUERADE): the "cone" of the issues */
  | 'cone'
  /** a new random external port per destination (MASQUERADE --random-fully) */
  | 'symmetric'
  /** external ports handed out in sequence with a fixed step, per destination (if buildable) */
  | 'sequential'

/** What the router does with an unsolicited inbound SYN on its WAN side. */
export type InboundPolicy = 'rst' | 'drop'

/** miniupnpd in the router: which protocols it serves; 'none' runs no daemon. */
export type UpnpMode = 'igd2+natpmp' | 'igd1' | 'natpmp' | 'none'

export interface RouterSpec {
  nat: NatMapping
  /** default 'rst' (Linux's own answer when nothing listens) */
  inbound?: InboundPolicy
  /** probability 0..1 of dropping each forwarded packet; default 0 */
  loss?: number
  /** seconds; sets nf_conntrack_tcp_timeout_established (and friends) inside the router */
  conntrackTimeout?: number
  /** default 'none' */
  upnp?: UpnpMode
  /** name of the router this one sits behind (double NAT); default: on the internet */
  behind?: string
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
  readonly spec: Readonly<RouterSpec>
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export interface LabProcess {
  readonly pid: number
  /** stdout, line by line, as it arrives */
  readonly lines: AsyncIterable<string>
  /** resolves with the first stdout line matching; rejects on exit, abort or timeout */
  waitForLine(
    match: RegExp | ((line: string) => boolean),
    opts?: { signal?: AbortSignal; timeout?: number },
  ): Promise<string>
  /** everything written to stdout / stderr so far */
  stdout(): string
  stderr(): string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal?: NodeJS.Signals): void
}

export interface Lab {
  /** unique per lab; every namespace and link name starts with it */
  readonly prefix: string
  host(name: string): LabHost
  router(name: string): LabRouter
  /** run a command inside a host's (or router's) namespace and wait for it */
  exec(
    where: string,
    argv: string[],
    opts?: { signal?: AbortSignal; timeout?: number; input?: string },
  ): Promise<ExecResult>
  /** start a long-running command inside a namespace */
  spawn(where: string, argv: string[], opts?: { env?: Record<string, string> }): LabProcess
  /** start a TypeScript/JS file with Node (tsx, workspace sources) inside a namespace */
  spawnNode(
    where: string,
    script: string,
    args?: string[],
    opts?: { env?: Record<string, string> },
  ): LabProcess
  /** conntrack entries of a router, one line each */
  conntrack(router: string): Promise<string[]>
  /** port mappings miniupnpd holds in a router */
  upnpMappings(router: string): Promise<
    Array<{
      protocol: 'TCP' | 'UDP'
      externalPort: number
      internalIp: string
      internalPort: number
      description: string
    }>
  >
  /** stop every process, delete every namespace and link this lab made; idempotent */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
