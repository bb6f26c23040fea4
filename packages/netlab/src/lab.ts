// createLab: builds the namespaces, links, routers and daemons of a LabSpec, and tears them down.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import debug from 'debug'
import { inNetns, run, runOk } from './command.js'
import { KILL_WAIT_MS, UPNP_HTTP_PORT, UPNP_STOP_TIMEOUT_MS } from './constants.js'
import { NetlabError } from './errors.js'
import { trackOpenLab, untrackOpenLab } from './exit-cleanup.js'
import { labTmpRoot, listNetns, newPrefix, removeNamespaces, sweepLeftovers } from './leftovers.js'
import { readLeases, upnpFeatures } from './miniupnpd.js'
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
import { clearUpnpState, startMiniupnpd, stopDaemon, type UpnpDaemon, upnpFiles } from './upnp-daemon.js'

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
  readonly hosts: LabHost[] = []
  readonly routers: LabRouter[] = []
  private readonly tmp: string
  private readonly procs = new Set<ChildProcess>()
  /** each router's miniupnpd, the latest one started (restartUpnp stops it by this PID) */
  private readonly daemons = new Map<string, UpnpDaemon>()
  /** the restart in progress (or last done) per router: restarts of one router are serialised */
  private readonly restarts = new Map<string, Promise<void>>()
  private closing: Promise<void> | undefined
  private closedSync = false

  constructor(
    private readonly plan: LabPlan,
    private readonly persistent: boolean,
  ) {
    this.prefix = plan.prefix
    this.tmp = join(labTmpRoot(), plan.prefix)
    for (const n of plan.nodes) {
      if (n.kind === 'public' || n.kind === 'host') {
        this.hosts.push({
          name: n.name,
          ns: n.ns,
          ip: n.ip,
          ...(n.kind === 'host' ? { router: n.parent } : {}),
        })
      } else if (n.kind === 'router' && n.router && n.lanIp && n.lanSubnet) {
        const upnp = upnpFeatures(n.router.upnp ?? 'none').upnp
        this.routers.push({
          name: n.name,
          ns: n.ns,
          wanIp: n.ip,
          lanIp: n.lanIp,
          lanSubnet: n.lanSubnet,
          spec: Object.freeze({ ...n.router }),
          ...(upnp ? { upnpUrl: `http://${n.lanIp}:${UPNP_HTTP_PORT}/rootDesc.xml` } : {}),
        })
      }
    }
  }

  async build(signal?: AbortSignal): Promise<void> {
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
    await Promise.all(
      this.plan.nodes
        .filter((n) => (n.router?.upnp ?? 'none') !== 'none')
        .map((n) => this.startMiniupnpd(n, signal)),
    )
    log('lab %s up: network %d ms, daemons %d ms', this.prefix, t1 - t0, performance.now() - t1)
  }

  private async startMiniupnpd(node: PlannedNode, signal?: AbortSignal, what?: string): Promise<void> {
    await startMiniupnpd({
      node,
      dir: join(this.tmp, node.name),
      index: this.plan.nodes.indexOf(node),
      ...(this.persistent ? { detached: { argvPrefix: inNetns(node.ns, []) } } : {}),
      spawn: (argv) => this.start(node, argv, process.env),
      onSpawn: (daemon) => this.daemons.set(node.name, daemon),
      ...(what ? { what } : {}),
      ...(signal ? { signal } : {}),
    })
    log('miniupnpd in %s ready (%s)', node.name, node.router?.upnp)
  }

  restartUpnp(router: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      this.router(router)
      const node = this.node(router)
      if ((node.router?.upnp ?? 'none') === 'none') throw NetlabError.NO_UPNP(router)
      const previous = this.restarts.get(router) ?? Promise.resolve()
      const next = previous.catch(() => {}).then(() => this.doRestartUpnp(node, opts.signal))
      this.restarts.set(router, next)
      return next
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /** What a router reboot does to its UPnP state: the daemon goes, and with it every mapping. */
  private async doRestartUpnp(node: PlannedNode, signal?: AbortSignal): Promise<void> {
    const t0 = performance.now()
    const what = `restartUpnp(${node.name})`
    const check = (): void => {
      if (this.closing || this.closedSync) throw NetlabError.CLOSED()
      if (signal?.aborted) throw NetlabError.ABORTED(what, signal.reason)
    }
    try {
      check()
      const daemon = this.daemons.get(node.name)
      if (daemon) await stopDaemon(node.name, daemon, UPNP_STOP_TIMEOUT_MS, signal)
      check()
      await clearUpnpState(node.ns, join(this.tmp, node.name), signal)
      check()
      await this.startMiniupnpd(node, signal, what)
    } catch (e) {
      check() // a failure caused by close() or the signal says so
      throw e
    }
    log('miniupnpd in %s restarted in %d ms', node.name, performance.now() - t0)
  }

  private node(where: string): PlannedNode {
    if (this.closing || this.closedSync) throw NetlabError.CLOSED()
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
    if (this.closing || this.closedSync) throw NetlabError.CLOSED()
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
    return readLeases(upnpFiles(join(this.tmp, router)).leases)
  }

  /** PIDs of the processes this lab started that still run (daemons included). */
  pids(): number[] {
    return [...this.procs].filter((p) => !p.hasExited).map((p) => p.pid)
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    const t0 = performance.now()
    const procs = [...this.procs]
    for (const p of procs) p.kill('SIGKILL')
    const bound = AbortSignal.timeout(KILL_WAIT_MS)
    await Promise.race([
      Promise.all(procs.map((p) => p.exited)),
      new Promise((resolve) => bound.addEventListener('abort', resolve, { once: true })),
    ])
    await removeNamespaces(this.plan.nodes.map((n) => n.ns))
    rmSync(this.tmp, { recursive: true, force: true })
    untrackOpenLab(this)
    log('lab %s closed in %d ms', this.prefix, performance.now() - t0)
  }

  /** For the 'exit' hook: synchronous, best effort. */
  closeSync(): void {
    if (this.closedSync) return
    this.closedSync = true
    for (const p of this.procs) p.kill('SIGKILL')
    const names = this.plan.nodes.map((n) => n.ns)
    for (const ns of names) {
      const res = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      for (const pid of (res.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
    spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join('') })
    rmSync(this.tmp, { recursive: true, force: true })
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
