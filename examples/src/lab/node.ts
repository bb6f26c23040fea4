/**
 * One node of `npm run demo:lab`, run inside a lab host (a network namespace behind a NAT router).
 * Prints JSON lines on stdout for the driver (`../demo-lab.ts`):
 *   node.ts listen  <server host:port>          start, advertise, print our UNL, answer one peer
 *   node.ts connect <server host:port> <unl>    start, connect to that UNL, exchange a line each way
 */
import { Net } from '@pyp2p/net'

const [mode, server, theirUnl] = process.argv.slice(2)
const TIMEOUT_MS = 20_000
const print = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

async function main(): Promise<void> {
  if (server === undefined || (mode !== 'listen' && mode !== 'connect')) {
    throw new Error('usage: node.ts listen <host:port> | connect <host:port> <unl>')
  }
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  // `direct` nets may be simultaneous nodes (as in the original); forwarding is off: these routers
  // run no UPnP, and the demo is about hole punching.
  await using net = new Net({ netType: 'direct', passivePort: 0, enableForwarding: false, servers: [server] })
  const report = await net.start({ signal })
  print({ event: 'started', nodeType: report.nodeType, natType: report.natType, reasons: report.reasons })

  if (mode === 'listen') {
    const connected = new Promise<void>((resolve) => net.once('connection', () => resolve()))
    await net.advertise({ signal })
    print({ event: 'ready', unl: net.unl.value })
    await connected
    const [con] = net.connections()
    const line = await con!.readLine({ signal })
    print({ event: 'received', line, method: net.info(con!)?.method })
    con!.sendLine(`hi, this is ${process.env.PYP2P_NAME ?? 'the listener'}`)
    await con!.closed
    return
  }
  const started = performance.now()
  const con = await net.unl.connect(theirUnl ?? '', { signal, timeout: TIMEOUT_MS })
  const ms = performance.now() - started
  print({ event: 'connected', method: net.info(con)?.method, ms: Math.round(ms * 10) / 10 })
  con.sendLine(`hello, this is ${process.env.PYP2P_NAME ?? 'the dialler'}`)
  print({ event: 'received', line: await con.readLine({ signal }) })
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    print({ event: 'error', code: (err as { code?: string }).code, message: (err as Error).message })
    process.exit(1)
  },
)
