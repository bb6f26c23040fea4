// The doctor's run: local network first, then the gateway's protocols and the server's view at the
// same time, then the test mapping; every check bounded, the verdict last.

import type { ServerAddress } from '@pyp2p/punch'
import createDebug from 'debug'
import { bounded, skipped } from './bounded.js'
import { REPORT_SCHEMA } from './constants.js'
import { externalFindings } from './external.js'
import { gatewayChecks } from './gateway-checks.js'
import { localNetwork } from './local-network.js'
import { mappingCheck } from './mapping-check.js'
import { natCheck } from './nat-check.js'
import { pinholeCheck } from './pinhole-check.js'
import type { CheckResult, DoctorReport } from './report.js'
import { verdictOf } from './verdict.js'

const debug = createDebug('pyp2p:doctor')

export interface DoctorOptions {
  /** a @pyp2p/bootstrap-server to test NAT behaviour through; without it that part is skipped */
  server?: ServerAddress
  /** make and remove a test mapping; default true */
  testMapping?: boolean
  signal?: AbortSignal
}

/** Runs every check and returns the report (never throws for what the network does). */
export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const signal = opts.signal ?? new AbortController().signal
  const checks: CheckResult[] = []

  const local = await bounded('local-network', 2_000, (s) => localNetwork(s), signal)
  checks.push(local.result)
  const network = local.value ?? { interfaces: [], defaultRoutes: [] }
  const gatewayAddress = network.defaultRoutes.find((r) => r.family === 4)?.gateway ?? null
  debug('default gateway %s', gatewayAddress)

  const ownAddresses = network.interfaces.map((i) => i.address)
  const [gw, nat] = await Promise.all([
    gatewayChecks(gatewayAddress, signal),
    natCheck(opts.server, ownAddresses, signal),
  ])
  checks.push(...gw.checks, ...nat.checks)
  if (opts.server === undefined) checks.push(skipped('nat-behaviour', 'no --server given'))

  const speaks = gw.gateway.pcp.answered || gw.gateway.natpmp.answered || gw.gateway.upnp.answered
  let mapping: DoctorReport['mapping'] = {
    status: 'skipped',
    protocol: 'TCP',
    removed: false,
    hairpin: 'untested',
  }
  let pinhole6: DoctorReport['pinhole6'] = { status: 'skipped', removed: false }
  let upnpExternal: string | null | undefined
  const v6 = network.defaultRoutes.some(
    (r) => r.family === 6 && r.localAddress !== undefined && !r.localAddress.startsWith('fe80'),
  )
  // The IPv4 test mapping and the IPv6 pinhole run side by side.
  const tasks: Array<Promise<void>> = []
  if (opts.testMapping === false) checks.push(skipped('test-mapping', 'not asked for (--no-mapping)'))
  else if (!speaks) checks.push(skipped('test-mapping', 'the gateway speaks no mapping protocol'))
  else {
    tasks.push(
      mappingCheck(gw.gateway, signal).then((m) => {
        checks.push(...m.checks)
        mapping = m.mapping
        upnpExternal = m.upnpExternal
      }),
    )
  }
  if (opts.testMapping === false) checks.push(skipped('ipv6-pinhole', 'not asked for (--no-mapping)'))
  else if (!v6) checks.push(skipped('ipv6-pinhole', 'no IPv6 default route with a global address'))
  else {
    tasks.push(
      pinholeCheck(signal).then((p) => {
        checks.push(...p.checks)
        pinhole6 = p.pinhole6
      }),
    )
  }
  await Promise.all(tasks)

  const external = externalFindings({
    ...(mapping.method === 'pcp' && mapping.externalAddress !== undefined
      ? { pcp: mapping.externalAddress }
      : {}),
    ...(gw.natpmpExternal !== undefined ? { natpmp: gw.natpmpExternal } : {}),
    ...(upnpExternal !== undefined ? { upnp: upnpExternal } : {}),
    ...(nat.nat.observed ? { server: nat.nat.observed.address } : {}),
  })
  const findings = { gateway: gw.gateway, external, mapping, pinhole6, nat: nat.nat }
  return {
    schema: REPORT_SCHEMA,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    network,
    ...findings,
    verdict: verdictOf(findings),
    checks,
    timedOut: checks.filter((c) => c.status === 'timeout').map((c) => c.name),
  }
}
