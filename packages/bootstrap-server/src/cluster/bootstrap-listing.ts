/**
 * `BOOTSTRAP` with `redis`: the pool of other instances' entries (listing-cache.ts) merged with this
 * instance's own tables. Answered at once from a warm pool; the connection is held only while a cold
 * pool is read (bounded by the store's timeout).
 */
import { nodesLine } from '../commands.js'
import type { Connection } from '../connection.js'
import type { CommandContext } from '../context.js'
import type { Listing, ListingCache } from './listing-cache.js'
import { pickMerged } from './pick.js'

export function bootstrapListing(
  ctx: CommandContext,
  cache: ListingCache,
  conn: Connection,
  count: number,
  marked: boolean,
): void {
  // Some extra: the asker's own ids and (on a public server) loopback entries are filtered out.
  const got = cache.listing(count + (conn.nodes?.length ?? 0) + 2)
  if (!(got instanceof Promise)) {
    conn.send(line(ctx, conn, count, marked, got))
    return
  }
  const resume = ctx.hold(conn)
  void got.then((listing) => {
    conn.send(line(ctx, conn, count, marked, listing))
    resume()
  })
}

function line(
  ctx: CommandContext,
  conn: Connection,
  count: number,
  marked: boolean,
  l: Listing | undefined,
): string {
  const { nodes, allowLoopback, opts } = ctx
  const simultaneous = opts.bootstrapSimultaneous
  const local = nodes.sample(count, conn.nodes, allowLoopback, simultaneous)
  if (l === undefined) return nodesLine(local, marked)
  const picked = pickMerged(l, local, {
    localTotal: simultaneous ? nodes.size : nodes.passiveCount,
    count,
    exclude: conn.nodes,
    allowLoopback,
    simultaneous,
    heldHere: (id) => nodes.get(id) !== undefined,
  })
  return nodesLine(picked, marked)
}
