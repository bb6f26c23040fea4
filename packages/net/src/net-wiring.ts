/**
 * The Net's connection events: the set of live connections (connection-set.ts: its limits and
 * evictions) announcing each one that joins (`connection`, and the async iterator) or leaves
 * (`disconnect`, with the code that closed it), and the relayed ones that move to a better path
 * (`upgrade`, relay-upgrades.ts).
 */
import type { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import type createDebug from 'debug'
import { ConnectionSet, type PeerInfo } from './connection-set.js'
import type { NetIterator } from './net-iterator.js'
import type { ResolvedNetOptions } from './options.js'
import { followNode, type RelayUpgradeEvents, withCloseCode } from './relay-upgrades.js'
import type { ServerEvents } from './session.js'
import type { NetResources, RelayMovedInfo } from './start.js'

/** Also `server:lost`, `server:restored`, `server:failover`: the bootstrap session's (session.ts). */
export interface NetEvents extends ServerEvents, RelayUpgradeEvents {
  /** A connection joined the net (inbound, bootstrap dial, or `net.unl.connect()`). */
  connection: [connection: LineSocket, info: PeerInfo]
  /** A connection left the net (closed by either side, refused as a duplicate, or at `stop()`). */
  disconnect: [connection: LineSocket, info: PeerInfo]
  /**
   * Our relay reservation moved: it followed the bootstrap session to another server (after
   * `server:failover`), or its relay of `reserveAt` stayed gone. `net.unl` names the new relay now;
   * hand peers the new `info.unl`.
   */
  'relay:moved': [info: RelayMovedInfo]
  /** `stop()` finished: everything is released. */
  close: []
}

/** The started Net's set of connections, its events wired to `net` and `iterator`. */
export function wireConnections(
  res: NetResources,
  o: ResolvedNetOptions,
  net: EventEmitter<NetEvents>,
  iterator: NetIterator,
  log: createDebug.Debugger,
): ConnectionSet {
  const set = new ConnectionSet({
    ...o, // netType, maxInbound, maxOutbound, inboundLimits
    nodeId: res.nodeId,
    onEvict: (_, info) => log('evicted idle inbound %s for a newcomer', info?.nodeId),
    onAdd: (con, info) => {
      log('%s %s (%s) %s:%d', info.direction, info.nodeId, info.method, info.host, info.port)
      iterator.push(con)
      net.emit('connection', con, info)
    },
    onRemove: (con, info) => {
      log('connection %s closed', info.nodeId)
      iterator.wake()
      net.emit('disconnect', con, withCloseCode(con, info))
    },
  })
  followNode(res, net, (con) => set.info(con))
  return set
}
