/**
 * The scale-out seam: what the server asks of the state it shares with other instances. Without the
 * `redis` option there is no store at all and every command runs on the in-memory tables alone (the
 * fast default); with it, `RedisClusterStore` (redis-store.ts, loaded by dynamic import) implements
 * this. Every method is bounded in time: a promise resolves `undefined` (or `'unavailable'`) when the
 * store did not answer within `redisTimeoutMs`, and the caller serves from its own state.
 */
import type { StoredMessage } from '@pyp2p/dht-msg/server'
import type { InboundPolicy, NodeType } from '@pyp2p/rendezvous-protocol'

export type ClusterStatus = 'ok' | 'degraded'

/** A registration as every instance sees it. */
export interface SharedNode {
  readonly nodeId: string
  readonly nodeType: NodeType
  readonly ip: string
  readonly port: number
  readonly maxInbound: number
  /** The instance whose connection registered it. */
  readonly instance: string
  readonly unproven: boolean
  /** SHA-256 of the clear token (hex), or '' when the node gave none. */
  readonly tokenHash: string
  /** Where the per-IP limit counts it (an IPv6 /64 counts as one). */
  readonly ipKey: string
}

/** Why a registration was refused cluster-wide (the same rules as in memory). */
export type RegisterVerdict =
  | { readonly ok: true; readonly previous: string | undefined }
  | { readonly ok: false; readonly reason: 'per-ip' | 'proof' | 'address' }

export type ClearVerdict = 'ok' | 'none' | 'proof' | 'unavailable'

/** One message between instances (Redis pub/sub), to one instance or to all. */
export type PeerMessage =
  /** A `CANDIDATE` whose target is connected at the receiving instance. */
  | {
      readonly op: 'candidate'
      readonly from: string
      readonly req: number
      readonly ip: string
      readonly target: string
      readonly node: string
      readonly ports: readonly number[]
      readonly rtt: number
      readonly measuring: boolean
      readonly proven: boolean
      readonly inbound: InboundPolicy | undefined
    }
  /** The reply line to a `candidate` request (`PREDICTION SET <id>` or an `ERROR`). */
  | { readonly op: 'reply'; readonly req: number; readonly line: string }
  /** A line for a candidate connected at the receiving instance; it ends that punch. */
  | { readonly op: 'line'; readonly punch: string; readonly line: string }
  /** The candidate's round trip, measured at its instance. */
  | { readonly op: 'rtt'; readonly punch: string; readonly rtt: number }
  /** The candidate's connection closed before FIGHT. */
  | { readonly op: 'gone'; readonly punch: string }
  /** A registration held here was cleared or replaced at another instance: forget it. */
  | { readonly op: 'drop'; readonly node: string; readonly replaced: boolean }
  /** A relay message for a node connected to the receiving instance. */
  | { readonly op: 'msg'; readonly m: StoredMessage }
  /** (to all) A relay node authenticated at instance `from`: send it what waits for it here. */
  | { readonly op: 'session'; readonly node: string; readonly from: string }

export interface ClusterStats {
  readonly instance: string
  readonly status: ClusterStatus
  /** Reconnections to Redis since start. */
  readonly reconnects: number
  /** Redis commands that failed or did not answer in time (served from local state instead). */
  readonly failures: number
  /** Entries and peer messages that did not parse (written by another program): skipped. */
  readonly skipped: number
}

export interface ClusterStore {
  /** This instance's id (random per process). */
  readonly instance: string
  readonly status: ClusterStatus
  stats(): ClusterStats
  /** Connects and subscribes; throws `ERR_REDIS_UNAVAILABLE` after `redisConnectTimeoutMs`. */
  connect(signal?: AbortSignal): Promise<void>
  /** Lists `node` for every instance, if the cluster-wide rules allow; `undefined` = unavailable. */
  register(node: SharedNode, ttlMs: number, maxPerIp: number): Promise<RegisterVerdict | undefined>
  /** Writes entries again without checks (after Redis came back; refresh of live ones). */
  republish(nodes: readonly SharedNode[], ttlMs: (n: SharedNode) => number): Promise<boolean>
  /** Forgets `nodeId` if this instance registered it; false when Redis did not take it. */
  unregister(nodeId: string, ipKey: string): Promise<boolean>
  /** Up to about `count` random entries of each kind asked for; `undefined` = unavailable. */
  sample(count: number, simultaneous: boolean): Promise<SharedNode[] | undefined>
  /** The entry of `nodeId`; `null` = none, `undefined` = unavailable. */
  lookup(nodeId: string): Promise<SharedNode | null | undefined>
  /** `CLEAR <node-id> <clear-token>` for an entry held anywhere. */
  clear(
    nodeId: string,
    tokenHash: string,
    proven: boolean,
  ): Promise<{ verdict: ClearVerdict; instance?: string }>
  /** Sends `msg` to one instance, or to all with `'*'` (fire and forget). */
  publish(to: string, msg: PeerMessage): Promise<boolean>
  /** Records that relay node `nodeId` is connected here, for `ttlMs`. */
  relayHere(nodeIds: readonly string[], ttlMs: number): void
  /** The instance relay node `nodeId` is connected to; `undefined` = none known or unavailable. */
  relayWhere(nodeId: string): Promise<string | undefined>
  /** Peer messages for this instance (and to all). */
  onMessage(handler: (msg: PeerMessage) => void): void
  /** Status changes; `'ok'` after `'degraded'` means Redis is back (republish). */
  onStatus(handler: (status: ClusterStatus, why: string) => void): void
  close(): Promise<void>
}
