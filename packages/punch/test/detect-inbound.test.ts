import { EventEmitter, once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { detectInbound, detectNat, INBOUND_PROBE_TIMEOUT_MS, RendezvousClient } from '../src/index.js'

const A = 'a'.repeat(40)
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/**
 * A scripted server that greets every connection as if it came through a NAT (observed port = the real
 * one + 1, so the client is not taken for un-NATted) and answers each line with `script(line)`; '' is
 * no answer at all. Returns the lines it got.
 */
async function natScripted(
  script: (line: string) => string,
): Promise<{ port: number; lines: string[]; got: EventEmitter<{ line: [string] }> }> {
  const sockets: Socket[] = []
  const lines: string[] = []
  const got = new EventEmitter<{ line: [string] }>()
  const server = createServer((s) => {
    sockets.push(s)
    s.on('error', () => {})
    s.write(`HELLO PYP2P/1 127.0.0.1 ${((s.remotePort ?? 1) % 65535) + 1}\r\n`)
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString()
      for (let i = buf.indexOf('\r\n'); i !== -1; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i)
        lines.push(line)
        got.emit('line', line)
        buf = buf.slice(i + 2)
        const out = script(line)
        if (out !== '') s.write(out)
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => {
    server.close()
    for (const s of sockets) s.destroy()
  })
  return { port: (server.address() as { port: number }).port, lines, got }
}

const reachable = (answer: string) => (line: string) =>
  line.startsWith('CHECK ') ? `REACHABLE TCP ${line.split(' ')[2]} ${answer}\r\n` : ''

describe('detectInbound', () => {
  it("asks for a dial-back to the probe connection's own observed port; refused = rst", async () => {
    const { port, lines } = await natScripted(reachable('NO connection refused'))
    expect(await detectInbound({ server: { host: '127.0.0.1', port }, nodeId: A, timeout: 60_000 })).toBe(
      'rst',
    )
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^CHECK TCP \d+ [A-Za-z0-9_-]+$/)
  })

  // The verdicts below come from the server's answer, never from our timeout: it is set far beyond
  // any answer's time so a loaded machine cannot turn an answer into `drop`.
  it("the server's own timeout is drop; YES or an ERROR is unknown", async () => {
    const server = (port: number) => ({ server: { host: '127.0.0.1', port }, nodeId: A, timeout: 60_000 })
    const timedOut = await natScripted(reachable('NO no answer within 3000 ms'))
    expect(await detectInbound(server(timedOut.port))).toBe('drop')
    const open = await natScripted(reachable('YES'))
    expect(await detectInbound(server(open.port))).toBeUndefined()
    const old = await natScripted(() => 'ERROR ERR_UNKNOWN_COMMAND unknown command\r\n')
    expect(await detectInbound(server(old.port))).toBeUndefined()
  })

  it('no answer within our timeout is drop (on a fake clock, advanced once the CHECK arrived)', async () => {
    const silent = await natScripted(() => '')
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const checked = once(silent.got, 'line', { signal: AbortSignal.timeout(60_000) })
      const verdict = detectInbound({ server: { host: '127.0.0.1', port: silent.port }, nodeId: A })
      const [line] = await checked
      expect(line).toMatch(/^CHECK TCP /)
      vi.advanceTimersByTime(INBOUND_PROBE_TIMEOUT_MS)
      expect(await verdict).toBe('drop')
    } finally {
      vi.useRealTimers()
    }
  })

  it('against a real server on loopback: no router in front, so unknown; detectNat leaves it out', async () => {
    const real = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await real.listen()
    cleanups.push(() => real.close())
    const server = { host: '127.0.0.1', port }
    expect(await detectInbound({ server, nodeId: A })).toBeUndefined()
    const nat = await detectNat({ server, nodeId: A, inbound: true })
    expect(nat.type).toBe('preserving')
    expect('inbound' in nat).toBe(false)
  })
})

describe('RendezvousClient.declareInbound', () => {
  it('is taken by the bootstrap server, and rejected with the wire code by one without INBOUND', async () => {
    const real = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await real.listen()
    cleanups.push(() => real.close())
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    cleanups.push(() => c.close())
    await c.declareInbound('rst')
    await c.declareInbound('drop')
    // Once per policy and connection (the server keeps it): no line for a repeat.
    const again = c.declareInbound('drop')
    expect(again).toBe(c.declareInbound('drop'))
    await again
    const old = await natScripted((line) =>
      line.startsWith('INBOUND') ? 'ERROR ERR_UNKNOWN_COMMAND unknown command\r\n' : 'REMOTE TCP 7\r\n',
    )
    const o = await RendezvousClient.connect({ server: { host: '127.0.0.1', port: old.port }, nodeId: A })
    cleanups.push(() => o.close())
    // Pipelined as punches send it: the error answers INBOUND only, the next request gets its reply.
    const declared = o.declareInbound('rst')
    const source = o.source()
    await expect(declared).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      serverCode: 'ERR_UNKNOWN_COMMAND',
    })
    expect(await source).toBe(7)
  })
})
