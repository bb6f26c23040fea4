#!/usr/bin/env node
// pyp2p-nat: open a port on the router from the command line (PCP, NAT-PMP or UPnP IGD v1/v2).
import { parseArgs } from 'node:util'
import { DEFAULT_DISCOVERY_TIMEOUT_MS, DEFAULT_TTL_S } from './constants.js'
import { discover } from './discovery.js'
import { NatError } from './errors.js'
import { NatClient } from './nat-client.js'
import { natpmpUnmap } from './natpmp-client.js'
import { removeMappingsOnExit } from './signals.js'
import type { Gateway, Mapping, Protocol } from './types.js'

const USAGE = `usage: pyp2p-nat <command> [options]

commands:
  status              gateways found, every protocol they speak (each is waited for, up to
                      --timeout), external address, mappings (UPnP)
  map <port>          map <port> on the router and hold it, renewing, until Ctrl-C (then remove it)
  unmap <port>        remove the mapping of internal <port> to this host
  list                the router's mapping table (UPnP only)

options:
  --udp               UDP instead of TCP
  --external <port>   external port to ask for (map; unmap when it differs from <port>)
  --exact             fail rather than take another external port (map)
  --ttl <seconds>     lease to ask for, renewed at half-time (map; default ${DEFAULT_TTL_S})
  --description <s>   shown in the router's table (map; default "pyp2p")
  --no-hold           map, print, and exit leaving the lease to run out by itself (by NAT-PMP or
                      UPnP unless --method says otherwise: \`unmap\` can remove those, not PCP's)
  --timeout <ms>      gateway discovery bound (default ${DEFAULT_DISCOVERY_TIMEOUT_MS})
  --interface <name>  search only on this interface (repeatable)
  --method <m>        map with this protocol only: pcp, natpmp or upnp (repeatable, preferred first;
                      default pcp, then natpmp, then upnp)
  --json              one JSON object per result, for scripts
  -h, --help          this text
`

class UsageError extends Error {}

function port(text: string | undefined, what: string): number {
  const n = Number(text)
  if (text === undefined || !/^[0-9]+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`${what} must be a port 1..65535`)
  return n
}

function describeGateway(g: Gateway): string {
  const upnp = g.upnp ? ` UPnP IGD v${g.upnp.version} (${g.upnp.location})` : ''
  const pmp = g.natpmp ? ` NAT-PMP (external ${g.natpmp.externalAddress ?? 'none'})` : ''
  const pcp = g.pcp ? ` PCP (epoch ${g.pcp.epoch})` : ''
  return `gateway ${g.address} via ${g.localAddress}: [${g.protocols.join(', ')}]${pcp}${pmp}${upnp}`
}

function describeMapping(m: Mapping): string {
  const lease = m.permanent ? 'permanent (router takes no leases; removed on exit)' : `lease ${m.ttl} s`
  return `mapped ${m.protocol} ${m.externalAddress}:${m.externalPort} -> ${m.internalAddress}:${m.internalPort} via ${m.method}, ${lease}`
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      udp: { type: 'boolean' },
      external: { type: 'string' },
      exact: { type: 'boolean' },
      ttl: { type: 'string' },
      description: { type: 'string' },
      'no-hold': { type: 'boolean' },
      timeout: { type: 'string' },
      interface: { type: 'string', multiple: true },
      method: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, arg] = positionals
  if (values.help || command === undefined) {
    process.stdout.write(USAGE)
    return values.help ? 0 : 2
  }
  const json = values.json === true
  const print = (human: string, data: unknown) =>
    process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`)
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout)
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0))
    throw new UsageError('--timeout must be ms > 0')
  const protocol: Protocol = values.udp ? 'UDP' : 'TCP'
  const methods = values.method?.map((m) => {
    if (m !== 'pcp' && m !== 'natpmp' && m !== 'upnp')
      throw new UsageError('--method must be pcp, natpmp or upnp')
    return m
  })
  // A PCP mapping can be deleted only with its nonce (RFC 6887 section 15), which dies with this process:
  // `map --no-hold` therefore maps by NAT-PMP or UPnP, which a later `unmap` can remove.
  const noHoldMap = command === 'map' && values['no-hold'] === true
  const chosen = methods ?? (noHoldMap ? (['natpmp', 'upnp'] as const) : undefined)
  if (noHoldMap && chosen?.includes('pcp'))
    process.stderr.write(
      'note: a PCP mapping made with --no-hold cannot be removed by `unmap`; it ends with its lease\n',
    )
  const options = {
    ...(timeout !== undefined ? { timeout } : {}),
    ...(values.interface ? { interfaces: values.interface } : {}),
    ...(chosen ? { methods: chosen } : {}),
  }
  // `status` reports every protocol a gateway speaks: it waits for each to answer (or the timeout)
  // rather than for a short grace after the first answer, which may leave out a slower protocol.
  const nat = new NatClient(command === 'status' ? { ...options, grace: Number.POSITIVE_INFINITY } : options)
  nat.on('warning', (w) => process.stderr.write(`warning ${w.code}: ${w.message}\n`))

  switch (command) {
    case 'status': {
      const gateways = await nat.discover()
      if (gateways.length === 0) await nat.externalIp() // throws ERR_NO_GATEWAY with the reason
      for (const g of gateways) print(describeGateway(g), { gateway: g })
      const ext = await nat.externalIp()
      print(
        `external address ${ext.address ?? 'none reported'} (${ext.method})${ext.private ? ' - not public: double NAT?' : ''}`,
        {
          external: ext,
        },
      )
      const entries = await nat.list().catch((err: unknown) => {
        if (err instanceof NatError && err.code === 'ERR_NOT_SUPPORTED') return undefined
        throw err
      })
      for (const e of entries ?? []) {
        print(
          `  ${e.protocol} ${e.externalPort} -> ${e.internalAddress}:${e.internalPort} "${e.description}" ttl ${e.ttl}`,
          { entry: e },
        )
      }
      return 0
    }
    case 'list': {
      const entries = await nat.list()
      if (entries.length === 0 && !json) print('no mappings', {})
      for (const e of entries) {
        print(
          `${e.protocol} ${e.externalPort} -> ${e.internalAddress}:${e.internalPort} "${e.description}" ttl ${e.ttl}`,
          { entry: e },
        )
      }
      return 0
    }
    case 'map': {
      const internalPort = port(arg, '<port>')
      const ttl = values.ttl === undefined ? DEFAULT_TTL_S : Number(values.ttl)
      const hold = values['no-hold'] !== true
      if (hold) removeMappingsOnExit(nat)
      nat.on('mapping:restored', (m) => print(`restored: ${describeMapping(m)}`, { restored: m }))
      nat.on('mapping:error', (e) => process.stderr.write(`renewal failed (${e.code}): ${e.message}\n`))
      const mapping = await nat.map({
        internalPort,
        protocol,
        ttl,
        ...(values.external ? { externalPort: port(values.external, '--external') } : {}),
        ...(values.exact ? { exactExternalPort: true } : {}),
        ...(values.description ? { description: values.description } : {}),
      })
      print(describeMapping(mapping), { mapping })
      if (!hold) return 0
      if (!json) process.stderr.write('holding the mapping; press Ctrl-C to remove it\n')
      await new Promise<never>(() => setInterval(() => {}, 1 << 30))
      return 0
    }
    case 'unmap': {
      const internalPort = port(arg, '<port>')
      const externalPort = values.external ? port(values.external, '--external') : undefined
      const { gateways: found } = await discover({ ...options, grace: Number.POSITIVE_INFINITY })
      const g = found.find((x) => x.upnp) ?? found.find((x) => x.info.natpmp)
      if (g === undefined) await nat.externalIp() // throws ERR_NO_GATEWAY
      let removed = 0
      if (g?.upnp) {
        for (const e of await g.upnp.list()) {
          const mine = e.internalClient === g.upnp.localAddress && e.protocol === protocol
          if (
            mine &&
            e.internalPort === internalPort &&
            (externalPort === undefined || e.externalPort === externalPort)
          ) {
            await g.upnp.deletePortMapping(e.externalPort, protocol)
            print(`removed ${protocol} ${e.externalPort} -> ${e.internalClient}:${e.internalPort}`, {
              removed: e,
            })
            removed++
          }
        }
      } else if (g?.info.natpmp) {
        await natpmpUnmap(g.info.address, { protocol, internalPort })
        print(`removed ${protocol} mapping of internal port ${internalPort} (NAT-PMP)`, {
          removed: { protocol, internalPort },
        })
        removed++
      }
      if (removed === 0) throw NatError.NOT_MAPPED(internalPort, protocol)
      return 0
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const json = process.argv.includes('--json')
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
      process.exitCode = 2
      return
    }
    const code = err instanceof NatError ? err.code : 'ERR_UNEXPECTED'
    if (json)
      process.stdout.write(`${JSON.stringify({ error: { code, message: (err as Error).message } })}\n`)
    else process.stderr.write(`error ${code}: ${(err as Error).message}\n`)
    process.exitCode = 1
  },
)
