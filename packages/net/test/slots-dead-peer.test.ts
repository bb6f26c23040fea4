/**
 * Dead peers (issue 19.2), with the peer in its own process (test/fixtures/net-node.ts): frozen
 * (SIGSTOP: its kernel still ACKs, nothing answers) it is noticed by the keep-alive ping and leaves
 * with `disconnect` (ERR_KEEPALIVE_TIMEOUT), `sendLine` then throws, typed, and its slot is free again;
 * killed (SIGKILL), its kernel closes the connection and it leaves at once. The exact bound
 * (heartbeatInterval + heartbeatTimeout) is proved on a fake clock in @pyp2p/unl's
 * admission-keepalive.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { LineSocket } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import { Net, type NetOptions, type PeerInfo } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const base: NetOptions = {
  netType: 'direct',
  passiveBind: '127.0.0.1',
  passivePort: 0,
  enableForwarding: false,
}

async function node(options: NetOptions = {}): Promise<Net> {
  const net = new Net({ ...base, ...options })
  cleanups.push(() => net.stop())
  await net.start()
  return net
}

/** A node in a child process that connects to `unl`; resolves once it reports the connection. */
async function peerProcess(unl: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pyp2p/source', 'test/fixtures/net-node.ts', JSON.stringify(base)],
    { cwd: pkg, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const events = createInterface({ input: child.stdout! })
  const seen = (name: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} from the peer process`)), WAIT_MS)
      events.on('line', (line) => {
        if ((JSON.parse(line) as { event: string }).event !== name) return
        clearTimeout(timer)
        resolve()
      })
    })
  await seen('started')
  const connected = seen('connected')
  child.stdin!.write(`${JSON.stringify({ cmd: 'connect', unl })}\n`)
  await connected
  return child
}

function nextDisconnect(net: Net): Promise<[LineSocket, PeerInfo]> {
  return once(net, 'disconnect', { signal: AbortSignal.timeout(WAIT_MS) }) as Promise<[LineSocket, PeerInfo]>
}

describe('a peer that vanishes', () => {
  it('frozen: disconnect by the keep-alive, sendLine throws typed, its inbound slot is free again', async () => {
    const host = await node({ maxInbound: 1, heartbeatInterval: 200, heartbeatTimeout: 200 })
    const arrived = nextConnection(host)
    const child = await peerProcess(host.unl.value)
    const { con } = await arrived
    const gone = nextDisconnect(host)
    child.kill('SIGSTOP')
    const [left, info] = await gone
    expect(left).toBe(con)
    expect(info.direction).toBe('inbound')
    expect((await con.closed).error).toMatchObject({ code: 'ERR_KEEPALIVE_TIMEOUT' })
    expect(() => con.sendLine('lost?')).toThrow(
      expect.objectContaining({
        code: 'ERR_CONNECTION_CLOSED',
        cause: expect.objectContaining({ code: 'ERR_KEEPALIVE_TIMEOUT' }),
      }),
    )
    expect(host.connections()).toEqual([])
    // maxInbound is 1: the slot the frozen peer held is free for the next node.
    const next = nextConnection(host)
    const legit = await node()
    const mine = await legit.unl.connect(host.unl.value)
    mine.sendLine('after')
    expect(await (await next).con.readLine({ timeout: WAIT_MS })).toBe('after')
  })

  it('killed by PID: its kernel closes the connection and it leaves at once', async () => {
    const host = await node()
    const arrived = nextConnection(host)
    const child = await peerProcess(host.unl.value)
    const { con } = await arrived
    const gone = nextDisconnect(host)
    child.kill('SIGKILL')
    const [left] = await gone
    expect(left).toBe(con)
    expect(host.connections()).toEqual([])
    expect(() => con.sendLine('lost?')).toThrow(expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }))
  })
})
