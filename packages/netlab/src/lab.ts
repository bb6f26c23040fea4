// createLab: builds the namespaces, links, routers and daemons of a LabSpec, and tears them down.
// What a lab shows of its plan is lab-nodes.ts; its miniupnpd daemons are lab-upnp.ts; taking it down
// is lab-teardown.ts.
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import debug from 'debug'
import { inNetns, run, runOk } from './command.js'
import { NetlabError } from './errors.js'
import { trackOpenLab, untrackOpenLab } from './exit-cleanup.js'
import { startLatency } from './lab-latency.js'
import { labNodes } from './lab-nodes.js'
import { type LabRemains, teardownLab, teardownLabSync } from './lab-teardown.js'
import { LabUpnp } from './lab-upnp.js'
import { labTmpRoot, listNetns, newPrefix, sweepLeftovers } from './leftovers.js'
import { type LabPlan, type PlannedNode, planLab } from './plan.js'
import { ChildProcess } from './process.js'
import { nsScript, rootBatch } from './setup-script.js'
import type {
  CreateLabOptions,
  ExecResult,
  Lab,
  LabHost,
  LabProcess,
  LabRouter,
  LabSpec,
  UpnpMapping,
} from './types.js'

const log = debug('pyp2p:netlab')

/** The directory of the nearest package.json above a file: spawnNode's working directory. */
export function packageDirOf(file: string): string {
  let dir = dirname(file)
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const up = dirname(dir)
    if (up === dir) return dirname(file)
    dir = up
  }
}

class NetLab implements Lab {
  readonly prefix: string
  readonly hosts: LabHost[]
  readonly routers: LabRouter[]
  private readonly tmp: string
  private readonly procs = new Set<ChildProcess>()
  private readonly upnp: LabUpnp
  private closing: Promise<void> | undefined
  private closedSync = false

  constructor(
    private readonly plan: LabPlan,
    private readonly persistent: boolean,
  ) {
    this.prefix = plan.prefix
    this.tmp = join(labTmpRoot(), plan.prefix)
    const nodes = labNodes(plan)
    this.hosts = nodes.hosts
    this.routers = nodes.routers
    this.upnp = new LabUpnp({
      plan,
      tmp: this.tmp,
      persistent,
      start: (node, argv) => this.start(node, argv, process.env),
      isClosed: () => this.isClosed(),
    })
  }

  async build(signal?: AbortSignal): Promise<void> {
    // A delay daemon is a child of this process: a persistent lab (`lab up`) would leave it running.
    if (this.persistent && this.plan.nodes.some((n) => (n.router?.latencyMs ?? 0) > 0))
      throw NetlabError.INVALID_SPEC('latencyMs needs a lab this process owns (not a persistent one)')
    const t0 = performance.now()
    mkdirSync(this.tmp, { recursive: true })
    if (!this.persistent) trackOpenLab(this)
    await runOk(['ip', '-batch', '-'], { input: rootBatch(this.plan), ...(signal ? { signal } : {}) })
    await Promise.all(
      this.plan.nodes.map((n) =>
        runOk(inNetns(n.ns, ['sh', '-ec', nsScript(this.plan, n)]), signal ? { signal } : {}),
      ),
    )
    const t1 = performance.now()
    const delayed = this.plan.nodes.filter((n) => (n.router?.latencyMs ?? 0) > 0)
    await Promise.all([
      this.upnp.startAll(signal),
      ...delayed.map((n) =>
        startLatency(
          n,
          n.router?.latencyMs ?? 0,
          (node, argv) => this.start(node, argv, process.env),
          signal,
        ),
      ),
    ])
    log('lab %s up: network %d ms, daemons %d ms', this.prefix, t1 - t0, performance.now() - t1)
  }

  restartUpnp(router: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      this.router(router)
      const node = this.node(router)
      if ((node.router?.upnp ?? 'none') === 'none') throw NetlabError.NO_UPNP(router)
      return this.upnp.restart(node, opts.signal)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  private isClosed(): boolean {
    return this.closing !== undefined || this.closedSync
  }

  private node(where: string): PlannedNode {
    if (this.isClosed()) throw NetlabError.CLOSED()
    const n = this.plan.byName.get(where)
    if (!n) throw NetlabError.UNKNOWN_NODE(where, [...this.plan.byName.keys()])
    return n
  }

  /** Starts argv in a node's namespace; unless the lab is persistent the process gets SIGKILL when
   * this process dies (PR_SET_PDEATHSIG through setpriv), so nothing outlives a crashed test. */
  private start(
    node: PlannedNode,
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd?: string,
  ): ChildProcess {
    // a process started while close() runs would escape it
    if (this.isClosed()) throw NetlabError.CLOSED()
    const proc = new ChildProcess(
      `${node.name}: ${argv[0]}`,
      inNetns(node.ns, [...this.tie(), ...argv]),
      env,
      cwd,
    )
    this.procs.add(proc)
    void proc.exited.then(() => this.procs.delete(proc))
    return proc
  }

  /** argv prefix that ties a process's life to this one's (none for persistent labs) */
  private tie(): string[] {
    return this.persistent ? [] : ['setpriv', '--pdeathsig', 'KILL', '--']
  }

  host(name: string): LabHost {
    const h = this.hosts.find((x) => x.name === name)
    if (h) return h
    throw NetlabError.UNKNOWN_NODE(
      name,
      this.hosts.map((x) => x.name),
    )
  }

  router(name: string): LabRouter {
    const r = this.routers.find((x) => x.name === name)
    if (r) return r
    throw NetlabError.UNKNOWN_NODE(
      name,
      this.routers.map((x) => x.name),
    )
  }

  exec(
    where: string,
    argv: string[],
    opts: { signal?: AbortSignal; timeout?: number; input?: string } = {},
  ): Promise<ExecResult> {
    try {
      return run(inNetns(this.node(where).ns, [...this.tie(), ...argv]), opts)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  spawn(
    where: string,
    argv: string[],
    opts: { env?: Record<string, string>; cwd?: string } = {},
  ): LabProcess {
    return this.start(this.node(where), argv, { ...process.env, ...opts.env }, opts.cwd)
  }

  spawnNode(
    where: string,
    script: string,
    args: string[] = [],
    opts: { env?: Record<string, string> } = {},
  ): LabProcess {
    const file = resolve(script)
    const argv = [process.execPath, '--import', 'tsx', '--conditions=@pyp2p/source', file, ...args]
    return this.start(this.node(where), argv, { ...process.env, ...opts.env }, packageDirOf(file))
  }

  async conntrack(router: string): Promise<string[]> {
    this.router(router)
    const out = await runOk(inNetns(this.node(router).ns, ['conntrack', '-L']))
    return out.split('\n').filter((l) => l.trim() !== '')
  }

  async upnpMappings(router: string): Promise<UpnpMapping[]> {
    this.router(router)
    this.node(router)
    return this.upnp.mappings(router)
  }

  /** PIDs of the processes this lab started that still run (daemons included). */
  pids(): number[] {
    return [...this.procs].filter((p) => !p.hasExited).map((p) => p.pid)
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private remains(): LabRemains {
    return { procs: [...this.procs], namespaces: this.plan.nodes.map((n) => n.ns), tmp: this.tmp }
  }

  private async doClose(): Promise<void> {
    const t0 = performance.now()
    await teardownLab(this.remains())
    untrackOpenLab(this)
    log('lab %s closed in %d ms', this.prefix, performance.now() - t0)
  }

  /** For the 'exit' hook: synchronous, best effort. */
  closeSync(): void {
    if (this.closedSync) return
    this.closedSync = true
    teardownLabSync(this.remains())
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** Builds the lab described by `spec`; on any failure removes what it made and rethrows. */
export async function createLab(spec: LabSpec, opts: CreateLabOptions = {}): Promise<Lab> {
  if (opts.signal?.aborted) throw NetlabError.ABORTED('createLab', opts.signal.reason)
  await sweepLeftovers()
  if (opts.signal?.aborted) throw NetlabError.ABORTED('createLab', opts.signal.reason)
  const existing = await listNetns()
  const inUse = (prefix: string) => existing.some((ns) => ns.startsWith(`${prefix}-`))
  let prefix = opts.prefix ?? newPrefix()
  if (opts.prefix !== undefined && inUse(prefix)) {
    throw NetlabError.INVALID_SPEC(`namespaces named ${prefix}-* exist already; remove them first`)
  }
  while (inUse(prefix)) prefix = newPrefix()
  const plan = planLab(spec, prefix)
  const lab = new NetLab(plan, opts.persistent ?? false)
  try {
    await lab.build(opts.signal)
  } catch (e) {
    await lab.close()
    throw e
  }
  return lab
}
