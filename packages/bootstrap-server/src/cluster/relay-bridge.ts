/**
 * The embedded relay across instances: a message queued here for a node connected to another instance
 * goes there (and leaves this queue); a node that authenticates here is announced to every instance,
 * which sends over what it queued for it; where each node is connected is kept in the store with a
 * TTL, refreshed with this instance's entries. While Redis is away, messages simply wait here.
 */
import type { RelayRemote, RelayServer, StoredMessage } from '@pyp2p/dht-msg/server'
import type { ClusterStore, PeerMessage } from '../store/cluster-store.js'
import type { RelayHooks } from './cluster-link.js'

export class RelayBridge implements RelayHooks {
  readonly #remote: RelayRemote
  readonly #store: ClusterStore

  constructor(relay: RelayServer, store: ClusterStore, ttlMs: number) {
    this.#remote = relay.remote()
    this.#store = store
    relay.on('queued', (m) => void this.#forward(m))
    relay.on('session', ({ nodeId }) => {
      store.relayHere([nodeId], ttlMs)
      void store.publish('*', { op: 'session', node: nodeId, from: store.instance })
    })
  }

  connectedNodes(): readonly string[] {
    return this.#remote.connected()
  }

  onPeer(msg: Extract<PeerMessage, { op: 'msg' | 'session' }>): void {
    if (msg.op === 'msg') {
      this.#remote.deliver(msg.m)
      return
    }
    // A node connected at `from`: what waits for it here goes there (unless it is connected here too).
    if (this.#remote.isConnected(msg.node)) return
    for (const m of this.#remote.take(msg.node)) this.#send(msg.from, m)
  }

  /** A message for a node not connected here: to its instance, if it is connected to another one. */
  async #forward(m: StoredMessage): Promise<void> {
    const where = await this.#store.relayWhere(m.to)
    if (where === undefined || where === this.#store.instance || this.#remote.isConnected(m.to)) return
    for (const queued of this.#remote.take(m.to)) this.#send(where, queued)
  }

  /** Sends one message to `to`; if that fails it is queued here again (it was taken out). */
  #send(to: string, m: StoredMessage): void {
    void this.#store.publish(to, { op: 'msg', m }).then((ok) => {
      if (!ok) this.#remote.deliver(m)
    })
  }
}
