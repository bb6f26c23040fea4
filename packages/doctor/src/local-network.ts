// Interfaces and default routes: what this host has before anything is asked of the network.
import { networkInterfaces } from 'node:os'
import { type DefaultRoute, defaultRoutes } from '@pyp2p/nat'
import type { DoctorReport } from './report.js'

export async function localNetwork(signal: AbortSignal): Promise<DoctorReport['network']> {
  const interfaces: DoctorReport['network']['interfaces'] = []
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal) continue
      interfaces.push({
        name,
        address: info.address,
        family: info.family === 'IPv4' ? 4 : 6,
        netmask: info.netmask,
      })
    }
  }
  const routes: DefaultRoute[] = await defaultRoutes({ signal })
  return { interfaces, defaultRoutes: routes.map((r) => ({ ...r })) }
}
