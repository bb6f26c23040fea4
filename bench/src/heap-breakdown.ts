/**
 * Where a server's bytes per connection go, for bench:bootstrap (issue 16, memory). Two parts:
 *
 * - `MEMORY_PROBE`: a module the server process preloads (`node --expose-gc --import <file>`). On
 *   SIGUSR2 it runs a full GC and prints one `MEM {json}` line on stdout: `process.memoryUsage()` and,
 *   when the env var `PYP2P_BENCH_SNAPSHOT_DIR` is set, the path of a heap snapshot it wrote there
 *   (after measuring; but the memory a snapshot takes stays in RSS, so RSS figures of a run with
 *   snapshots are not comparable with those of a run without).
 *   The server's own code is not touched.
 * - `snapshotByType(file)`: a heap snapshot summed by object type (`object:Socket`, `string`, ...), so
 *   two snapshots (idle, then with N connections) give bytes per connection per type.
 */
import { readFileSync } from 'node:fs'

export const MEMORY_PROBE = `
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8'
process.on('SIGUSR2', () => {
  globalThis.gc?.()
  globalThis.gc?.()
  // Measured before the snapshot: writing one takes memory of its own.
  const usage = process.memoryUsage()
  const heapPhysical = getHeapStatistics().total_physical_size
  const dir = process.env.PYP2P_BENCH_SNAPSHOT_DIR
  const snapshot = dir ? writeHeapSnapshot(dir + '/' + process.pid + '-' + Date.now() + '.heapsnapshot') : undefined
  process.stdout.write('MEM ' + JSON.stringify({ ...usage, heapPhysical, snapshot }) + '\\n')
})
`

export interface MemorySample {
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  /** Heap pages resident (committed heap is larger: reserved young-generation space is not touched). */
  heapPhysical: number
  snapshot?: string
}

/**
 * Bytes per connection between two samples: live JS heap, resident heap pages not in use (young
 * generation, fragmentation), external buffers, and the rest of RSS (native: libuv and Node's C++ handle
 * objects, malloc overhead).
 */
export function perConnection(idle: MemorySample, held: MemorySample, conns: number): Record<string, number> {
  const per = (v: number): number => Math.round(v / Math.max(1, conns))
  const heap = held.heapUsed - idle.heapUsed
  const total = held.heapPhysical - idle.heapPhysical
  const external = held.external - idle.external
  return {
    rssAfterGcPerConn: per(held.rss - idle.rss),
    heapLivePerConn: per(heap),
    heapSlackPerConn: per(total - heap),
    externalPerConn: per(external),
    nativePerConn: per(held.rss - idle.rss - total - external),
  }
}

/** Self size and count of every node type in a V8 heap snapshot (`type:name`; strings as one type). */
export function snapshotByType(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const [t, n, s] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')]
  const out = new Map<string, { count: number; bytes: number }>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + t] as number] as string
    const name = snap.strings[snap.nodes[i + n] as number] as string
    const key = /string/.test(type)
      ? 'string'
      : type === 'number'
        ? 'heap number'
        : type === 'code' || type === 'array' || type === 'hidden'
          ? `${type}:${name.startsWith('system /') ? name : ''}`
          : `${type}:${name.slice(0, 40)}`
    const e = out.get(key) ?? { count: 0, bytes: 0 }
    e.count++
    e.bytes += snap.nodes[i + s] as number
    out.set(key, e)
  }
  return out
}

/** Bytes and objects per connection by type between an idle and a loaded snapshot, largest first. */
export function snapshotDelta(
  idleFile: string,
  heldFile: string,
  conns: number,
): { type: string; bytesPerConn: number; objectsPerConn: number }[] {
  const idle = snapshotByType(idleFile)
  const held = snapshotByType(heldFile)
  const rows = [...held].map(([type, h]) => {
    const i = idle.get(type) ?? { count: 0, bytes: 0 }
    return {
      type,
      bytesPerConn: Math.round((h.bytes - i.bytes) / conns),
      objectsPerConn: Number(((h.count - i.count) / conns).toFixed(2)),
    }
  })
  return rows.filter((r) => r.bytesPerConn >= 4).sort((a, b) => b.bytesPerConn - a.bytesPerConn)
}
