/**
 * Hooks for a host that links several relays into one (bootstrap-server's scale-out on Redis): which
 * nodes are connected here, a message another relay accepted delivered here (queued, and pushed if its
 * recipient is connected), and the messages queued here for a node that connected elsewhere, taken out
 * to be sent there. Limits were checked by the relay that accepted the message from its sender.
 */
import type { Clock } from '@pyp2p/limits'
import type { MessageStore, StoredMessage } from '../message-store.js'
import type { RelaySession } from '../relay-session.js'

export interface RelayRemote {
  /** Node ids authenticated here now. */
  connected(): string[]
  isConnected(nodeId: string): boolean
  /** Queues a message accepted elsewhere and pushes it if its recipient is here; false if not queued. */
  deliver(message: StoredMessage): boolean
  /** Removes and returns the unexpired messages queued here for `to`. */
  take(to: string): StoredMessage[]
}

export function relayRemote(
  store: MessageStore,
  sessions: ReadonlyMap<string, RelaySession>,
  clock: Clock,
): RelayRemote {
  return {
    connected: () => [...sessions.keys()],
    isConnected: (nodeId) => sessions.has(nodeId),
    deliver: (m) => {
      try {
        if (!store.put(m, clock.now())) return false
      } catch {
        return false
      }
      sessions.get(m.to)?.push(m)
      return true
    },
    take: (to) => {
      const out = store.pending(to, clock.now())
      for (const m of out) store.ack(to, m.from, m.id)
      return out
    },
  }
}
