// The host's default gateways and our address towards each, on Linux, macOS and Windows, behind one
// function. The npm `default-gateway` package is not used because it is ESM-only (this package also
// ships CommonJS), pulls in execa and its 9 dependencies, and reports no local address.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import createDebug from 'debug'
import { sameSubnet } from './address.js'
import { ROUTE_COMMAND_TIMEOUT_MS } from './constants.js'
import {
  parseIpRoute,
  parseNetstatRn,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseRoutePrint,
  type RawRoute,
} from './route-parsers.js'

const debug = createDebug('pyp2p:nat:routes')

export interface DefaultRoute {
  family: 4 | 6
  /** the gateway's address (IPv6 link-local ones carry their zone: 'fe80::1%en0') */
  gateway: string
  /** the interface's name as os.networkInterfaces() names it ('' when unknown) */
  iface: string
  /** our address on that interface facing the gateway (undefined when none is configured) */
  localAddress?: string
}

export interface RouteSources {
  platform?: NodeJS.Platform
  /** reads a file (Linux /proc); default fs.readFile */
  readFile?: (path: string) => Promise<string>
  /** runs a command and resolves with its stdout; default execFile bounded by ROUTE_COMMAND_TIMEOUT_MS */
  run?: (file: string, args: string[]) => Promise<string>
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>
  signal?: AbortSignal
}

const runFile = (signal?: AbortSignal) => (file: string, args: string[]) =>
  new Promise<string>((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: ROUTE_COMMAND_TIMEOUT_MS, windowsHide: true, ...(signal ? { signal } : {}) },
      (err, stdout) => (err ? reject(err) : resolve(String(stdout))),
    )
  })

async function rawRoutes(src: Required<Omit<RouteSources, 'signal'>>): Promise<RawRoute[]> {
  const tryAll = async (...ways: Array<() => Promise<RawRoute[]>>) => {
    for (const way of ways) {
      try {
        const routes = await way()
        if (routes.length > 0) return routes
      } catch (err) {
        debug('route source failed: %s', (err as Error).message)
      }
    }
    return []
  }
  switch (src.platform) {
    case 'linux':
    case 'android': {
      const v4 = await tryAll(
        async () => parseProcNetRoute(await src.readFile('/proc/net/route')),
        async () => parseIpRoute(await src.run('ip', ['-4', 'route', 'show', 'default'])),
      )
      const v6 = await tryAll(
        async () => parseProcNetIpv6Route(await src.readFile('/proc/net/ipv6_route')),
        async () => parseIpRoute(await src.run('ip', ['-6', 'route', 'show', 'default'])),
      )
      return [...v4, ...v6]
    }
    case 'darwin':
    case 'freebsd':
    case 'openbsd':
      return tryAll(async () => parseNetstatRn(await src.run('netstat', ['-rn'])))
    case 'win32':
      return tryAll(async () => parseRoutePrint(await src.run('route', ['print'])))
    default:
      return []
  }
}

/** Gives each route its interface name and our address on it, from the interface list. */
export function resolveRoutes(
  routes: readonly RawRoute[],
  ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): DefaultRoute[] {
  const list = Object.entries(ifaces).flatMap(([name, infos]) =>
    (infos ?? []).map((info) => ({ name, info })),
  )
  return routes.map((r) => {
    const family = r.family === 4 ? 'IPv4' : 'IPv6'
    // Windows names the interface by its address (IPv4) or index (IPv6 zone); the others by name.
    const named =
      list.find((x) => x.name === r.iface) ??
      list.find((x) => r.localAddress !== undefined && x.info.address === r.localAddress) ??
      list.find((x) => r.family === 6 && /^\d+$/.test(r.iface) && x.info.scopeid === Number(r.iface))
    const name = named?.name ?? r.iface
    const own = list.filter((x) => x.name === name && x.info.family === family && !x.info.internal)
    const pick =
      r.localAddress ??
      (r.family === 4
        ? (own.find((x) => sameSubnet(x.info.address, r.gateway, x.info.netmask)) ?? own[0])?.info.address
        : (own.find((x) => !x.info.address.startsWith('fe80')) ?? own[0])?.info.address)
    return {
      family: r.family,
      gateway: r.gateway,
      iface: name,
      ...(pick !== undefined ? { localAddress: pick } : {}),
    }
  })
}

/** The host's default routes, IPv4 first; [] when the OS gives none (or can't be read). Never throws. */
export async function defaultRoutes(sources: RouteSources = {}): Promise<DefaultRoute[]> {
  const src = {
    platform: sources.platform ?? process.platform,
    readFile: sources.readFile ?? ((path: string) => readFile(path, 'utf8')),
    run: sources.run ?? runFile(sources.signal),
    interfaces: sources.interfaces ?? networkInterfaces(),
  }
  const routes = resolveRoutes(await rawRoutes(src), src.interfaces)
  return [...routes.filter((r) => r.family === 4), ...routes.filter((r) => r.family === 6)]
}

/** IPv4 default gateways with their interface names (what NAT-PMP and PCP discovery probe). */
export async function defaultGateways(
  sources: RouteSources = {},
): Promise<Array<{ iface: string; gateway: string }>> {
  return (await defaultRoutes(sources))
    .filter((r) => r.family === 4)
    .map((r) => ({ iface: r.iface, gateway: r.gateway }))
}
