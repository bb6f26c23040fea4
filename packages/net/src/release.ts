/**
 * What `net.stop()` releases, in order: no more punches or challenges, the listener and every
 * connection, the connector, then (in parallel, each bounded) the bootstrap server left with `CLEAR` +
 * `QUIT`, the port mapping removed, the relay connection closed, the circuit relay we serve closed. Never rejects.
 */
import type createDebug from 'debug'
import type { ConnectionSet } from './connection-set.js'
import type { NetResources } from './start.js'

export async function releaseNet(
  res: Partial<NetResources> | undefined,
  set: ConnectionSet | undefined,
  log: createDebug.Debugger,
): Promise<void> {
  res?.puncher?.close()
  // The listener's close() resolves only once its accepted sockets are gone: close those too.
  const listening = res?.listener?.close()
  const closing = set?.closeAll() ?? []
  res?.connector?.close()
  const relaying = res?.relaying?.close()
  await Promise.all([
    listening,
    relaying,
    ...closing.map((c) => c.closed),
    res?.session?.leave(),
    res?.releaseForwarding?.().catch((err: unknown) => log('removing the port mapping: %s', err)),
    res?.closeRelay?.().catch((err: unknown) => log('closing the relay client: %s', err)),
  ])
}
