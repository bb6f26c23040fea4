/** A registration of this instance as the other instances see it (the store's `SharedNode`). */
import { createHash } from 'node:crypto'
import type { NodeRecord } from '../node-table.js'
import { isUnproven } from '../registration.js'
import type { SharedNode } from '../store/cluster-store.js'

/** Clear tokens are stored and compared as their SHA-256 (hex): Redis never holds a token itself. */
export function sha256(s: string): string {
  return createHash('sha256').update(s, 'latin1').digest('hex')
}

export function sharedEntry(rec: NodeRecord, instance: string, ipKey: string): SharedNode {
  return {
    nodeId: rec.nodeId,
    nodeType: rec.nodeType,
    ip: rec.ip,
    port: rec.port,
    maxInbound: rec.maxInbound,
    instance,
    unproven: isUnproven(rec),
    tokenHash: rec.clearToken === undefined ? '' : sha256(rec.clearToken),
    ipKey,
  }
}
