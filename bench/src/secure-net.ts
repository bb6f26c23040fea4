/**
 * Time to the first line through @pyp2p/net on loopback, for bench/src/secure.ts: `net.unl.connect()`
 * between two started Nets in this process (`secure: true`, the default, vs `secure: false`) until the
 * peer has read the first line, p50/p99 in ms.
 */
import { Net } from '@pyp2p/net'

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

export async function netFirstLine(
  mode: 'plain' | 'secure',
  count: number,
): Promise<{ p50: number; p99: number }> {
  const options = {
    netType: 'direct',
    nodeType: 'passive',
    passiveBind: '127.0.0.1',
    passivePort: 0,
    enableForwarding: false,
    secure: mode === 'secure',
    maxInbound: 100_000,
    maxOutbound: 100_000,
  } as const
  const a = new Net(options)
  const b = new Net(options)
  await a.start()
  await b.start()
  let arrived: ((line: string) => void) | undefined
  a.on('connection', (con) => {
    void con.readLine().then((line) => arrived?.(line))
  })
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const got = new Promise<string>((resolve) => {
      arrived = resolve
    })
    const start = performance.now()
    const con = await b.unl.connect(a.unl.value)
    con.sendLine('first')
    await got
    times.push(performance.now() - start)
    con.close()
    await con.closed
  }
  await Promise.all([a.stop(), b.stop()])
  times.sort((x, y) => x - y)
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) }
}
