/** The original's `broadcast`: a line to every connection but its source; a failed send is logged. */
import type { LineSocket } from '@pyp2p/framing'
import type createDebug from 'debug'

export function broadcastLine(
  connections: readonly LineSocket[],
  line: string,
  source: LineSocket | undefined,
  log: createDebug.Debugger,
): number {
  let n = 0
  for (const con of connections) {
    if (con === source) continue
    try {
      con.sendLine(line)
      n++
    } catch (err) {
      log('broadcast: %s', (err as Error).message)
    }
  }
  return n
}
