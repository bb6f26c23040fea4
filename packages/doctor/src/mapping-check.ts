// A test mapping made and removed with the client's preferred protocol, a hairpin connection to it
// (our own external address:port from inside), and the router's external address over UPnP.
import { once } from 'node:events'
import { connect, createServer, type Server } from 'node:net'
import { NatClient } from '@pyp2p/nat'
import { bounded } from './bounded.js'
import {
  EXTERNAL_ADDRESS_MS,
  HAIRPIN_GREETING,
  HAIRPIN_MS,
  TEST_MAPPING_DESCRIPTION,
  TEST_MAPPING_MS,
  TEST_MAPPING_TTL_S,
} from './constants.js'
import type { CheckResult, DoctorReport } from './report.js'

export interface MappingFindings {
  mapping: DoctorReport['mapping']
  upnpExternal?: string | null
  checks: CheckResult[]
}

/** Connects to ip:port and resolves true when our own listener's greeting comes back. */
async function hairpin(ip: string, port: number, signal: AbortSignal): Promise<boolean> {
  const socket = connect({ host: ip, port, signal })
  try {
    let text = ''
    for await (const chunk of socket) {
      text += String(chunk)
      if (text.includes(HAIRPIN_GREETING)) return true
    }
    return false
  } finally {
    socket.destroy()
  }
}

export async function mappingCheck(
  gateway: DoctorReport['gateway'],
  signal: AbortSignal,
): Promise<MappingFindings> {
  const checks: CheckResult[] = []
  let upnpExternal: string | null | undefined
  if (gateway.upnp.answered) {
    const ext = await bounded(
      'upnp-external-address',
      EXTERNAL_ADDRESS_MS,
      async (s) => {
        const nat = new NatClient({ methods: ['upnp'], natpmp: false, timeout: EXTERNAL_ADDRESS_MS })
        try {
          return (await nat.externalIp({ signal: s })).address
        } finally {
          await nat.close()
        }
      },
      signal,
    )
    checks.push(ext.result)
    if (ext.result.status === 'ok') upnpExternal = ext.value ?? null
  }
  const listener: Server = createServer((s) => s.end(`${HAIRPIN_GREETING}\n`))
  listener.listen(0, '0.0.0.0')
  await once(listener, 'listening')
  const internalPort = (listener.address() as { port: number }).port
  const nat = new NatClient({ timeout: TEST_MAPPING_MS })
  const mapping: DoctorReport['mapping'] = {
    status: 'failed',
    protocol: 'TCP',
    removed: false,
    hairpin: 'untested',
  }
  try {
    const made = await bounded(
      'test-mapping',
      TEST_MAPPING_MS,
      (s) =>
        nat.map({ internalPort, ttl: TEST_MAPPING_TTL_S, description: TEST_MAPPING_DESCRIPTION, signal: s }),
      signal,
    )
    checks.push(made.result)
    mapping.status = made.result.status
    const m = made.value
    if (m === undefined) {
      if (made.result.error) mapping.error = made.result.error.code
      return { mapping, ...(upnpExternal !== undefined ? { upnpExternal } : {}), checks }
    }
    Object.assign(mapping, {
      method: m.method,
      internalPort,
      externalAddress: m.externalAddress,
      externalPort: m.externalPort,
      lifetime: m.ttl,
    })
    if (m.externalAddress !== null) {
      const hp = await bounded(
        'hairpin',
        HAIRPIN_MS,
        (s) => hairpin(m.externalAddress as string, m.externalPort, s),
        signal,
      )
      checks.push(hp.result)
      mapping.hairpin = hp.value === true ? 'yes' : 'no'
    }
    const removed = await bounded(
      'test-mapping-removal',
      TEST_MAPPING_MS,
      (s) => nat.unmap(m, { signal: s }),
      signal,
    )
    checks.push(removed.result)
    mapping.removed = removed.result.status === 'ok'
    return { mapping, ...(upnpExternal !== undefined ? { upnpExternal } : {}), checks }
  } finally {
    await nat.close() // removes the mapping if the removal above did not
    listener.close()
  }
}
