// The miniupnpd daemons of one lab's routers: started when the lab is built, restarted as a router
// reboot would (restartUpnp; restarts of one router run one after the other), their mappings read.
import { join } from 'node:path'
import debug from 'debug'
import { inNetns } from './command.js'
import { UPNP_STOP_TIMEOUT_MS } from './constants.js'
import { type Daemon, stopDaemon } from './daemon.js'
import { NetlabError } from './errors.js'
import { readLeases } from './miniupnpd.js'
import type { LabPlan, PlannedNode } from './plan.js'
import type { ChildProcess } from './process.js'
import type { UpnpMapping } from './types.js'
import { clearUpnpState, startMiniupnpd, upnpFiles } from './upnp-daemon.js'

const log = debug('pyp2p:netlab')

export interface LabUpnpContext {
  plan: LabPlan
  /** the lab's temp directory; each router's miniupnpd files are in `<tmp>/<router>` */
  tmp: string
  /** persistent labs start detached daemons that outlive this process */
  persistent: boolean
  /** starts argv in a node's namespace as a process of the lab (throws once the lab closes) */
  start(node: PlannedNode, argv: string[]): ChildProcess
  /** true once the lab's close() (or closeSync()) has begun */
  isClosed(): boolean
}

export class LabUpnp {
  /** each router's miniupnpd, the latest one started (a restart stops it by this PID) */
  readonly #daemons = new Map<string, Daemon>()
  /** the restart in progress (or last done) per router: restarts of one router are serialised */
  readonly #restarts = new Map<string, Promise<void>>()

  constructor(private readonly ctx: LabUpnpContext) {}

  /** Starts miniupnpd in every router whose spec asks for it; resolves once all serve. */
  async startAll(signal?: AbortSignal): Promise<void> {
    await Promise.all(
      this.ctx.plan.nodes
        .filter((n) => (n.router?.upnp ?? 'none') !== 'none')
        .map((n) => this.start(n, signal)),
    )
  }

  private async start(node: PlannedNode, signal?: AbortSignal, what?: string): Promise<void> {
    await startMiniupnpd({
      node,
      dir: join(this.ctx.tmp, node.name),
      index: this.ctx.plan.nodes.indexOf(node),
      ...(this.ctx.persistent ? { detached: { argvPrefix: inNetns(node.ns, []) } } : {}),
      spawn: (argv) => this.ctx.start(node, argv),
      onSpawn: (daemon) => this.#daemons.set(node.name, daemon),
      ...(what ? { what } : {}),
      ...(signal ? { signal } : {}),
    })
    log('miniupnpd in %s ready (%s)', node.name, node.router?.upnp)
  }

  /** `lab.restartUpnp` for a router known to run miniupnpd: queued behind its previous restart. */
  restart(node: PlannedNode, signal?: AbortSignal): Promise<void> {
    const previous = this.#restarts.get(node.name) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.doRestart(node, signal))
    this.#restarts.set(node.name, next)
    return next
  }

  /** What a router reboot does to its UPnP state: the daemon goes, and with it every mapping. */
  private async doRestart(node: PlannedNode, signal?: AbortSignal): Promise<void> {
    const t0 = performance.now()
    const what = `restartUpnp(${node.name})`
    const check = (): void => {
      if (this.ctx.isClosed()) throw NetlabError.CLOSED()
      if (signal?.aborted) throw NetlabError.ABORTED(what, signal.reason)
    }
    try {
      check()
      const daemon = this.#daemons.get(node.name)
      if (daemon) await stopDaemon(node.name, daemon, UPNP_STOP_TIMEOUT_MS, signal)
      check()
      await clearUpnpState(node.ns, join(this.ctx.tmp, node.name), signal)
      check()
      await this.start(node, signal, what)
    } catch (e) {
      check() // a failure caused by close() or the signal says so
      throw e
    }
    log('miniupnpd in %s restarted in %d ms', node.name, performance.now() - t0)
  }

  /** The mappings a router's miniupnpd holds, from its lease file ([] without miniupnpd). */
  mappings(router: string): Promise<UpnpMapping[]> {
    return readLeases(upnpFiles(join(this.ctx.tmp, router)).leases)
  }
}
