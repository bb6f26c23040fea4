/**
 * What the command handlers ask of the scale-out link (`ctx.cluster`; undefined without the `redis`
 * option, so the in-memory path pays one property check). Each method that waits for Redis holds back
 * the connection's later lines until it has sent its one reply (replies stay in order), and never
 * waits longer than the bounded Redis timeout: then it serves from this instance's own tables.
 */
import type { Connection } from '../connection.js'
import type { NodeRecord } from '../node-table.js'
import type { RegisterVerdict } from '../store/cluster-store.js'

export interface ClusterHooks {
  /** `BOOTSTRAP <n>` from the whole network (replies itself). */
  bootstrap(conn: Connection, count: number, marked: boolean): void
  /** After a registration passed the local limits: the network-wide ones; `undefined` = unavailable. */
  register(conn: Connection, rec: NodeRecord, done: (verdict: RegisterVerdict | undefined) => void): void
  /** A registration left this instance's table (cleared, expired, its connection closed). */
  unregister(rec: NodeRecord): void
  /** `CLEAR <node-id> <token>` of an entry this instance does not hold (replies itself). */
  clear(conn: Connection, nodeId: string, token: string, proven: boolean): void
  /** `CANDIDATE` for a target not connected here (replies itself). */
  candidate(
    conn: Connection,
    targetNodeId: string,
    nodeId: string,
    ports: readonly number[],
    proven: boolean,
  ): void
  /** A PONG measured `conn`'s round trip: its punches at other instances hear of it. */
  measured(conn: Connection): void
  /** `conn` closed: its punches at other instances end. */
  connectionClosed(conn: Connection): void
}
