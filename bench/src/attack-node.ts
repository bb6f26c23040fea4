/**
 * A node's inbound slots under attack from one prefix (bench/src/attack.ts, issue 21 "A node's inbound
 * slots"): a passive `Net` node (defaults: `maxInbound` 10, 8 pending handshakes, secure) whose address
 * is known as if it were advertised; an attacker on 10.9.9.0/24 (or fd00:9::/64) that keeps re-opening,
 * at once when one ends (full rate), either silent sockets (`silent`: the pending handshakes) or
 * connections that complete the secure handshake and the hello under a fresh random node id each and
 * then stay silent (`hello`: the inbound slots; fewer at once than the node's 8 pending handshakes, so
 * they are not each other's victims: a mix from one prefix starves its own hellos); and a legitimate node from
 * 10.8.8.0/24 (or fd00:8::/64) that connects, sends a line, reads its echo and closes, one after the
 * other, timed from its connect() to the echo.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { NodeIdentity } from '@pyp2p/identity'
import { Net } from '@pyp2p/net'
import { randomAddressIn64 } from '@pyp2p/netlab'
import { upgradeOutbound } from '@pyp2p/unl'
import { codeOf, count, type Family, isAttacker, legitAddress } from './attack-common.js'

/** Attacker connections of each kind kept open or opening at once. */
const SILENT = 64
const HELLOED = 6
/** The legitimate node's run, ms at most (the rest of its rounds count as failures). */
const LEGIT_MS = 30_000
const nonce = (): string => randomBytes(32).toString('hex')

/** A socket from `localAddress` to the node, connected or failed. */
function dial(host: string, port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress })
    s.once('connect', () => {
      s.removeListener('error', reject)
      resolve(s)
    })
    s.once('error', reject)
  })
}

/** The target: a passive Net echoing every line; prints its port and node id, then its slots every 250 ms. */
export async function nodeTargetWorker(): Promise<void> {
  const net = new Net({
    netType: 'direct',
    nodeType: 'passive',
    passiveBind: '::',
    passivePort: 0,
    enableForwarding: false,
    circuitRelay: false,
    ipv6Address: false,
  })
  await net.start()
  net.on('connection', (con) => {
    con.on('line', (line) => con.sendLine(line))
  })
  process.stdout.write(`${JSON.stringify({ port: net.port, nodeId: net.nodeId })}\n`)
  setInterval(() => {
    let attacker = 0
    const all = net.connections()
    for (const con of all) if (isAttacker(con.remoteAddress)) attacker++
    process.stdout.write(`${JSON.stringify({ slots: all.length, attacker })}\n`)
  }, 250)
}

export type NodeAttack = 'silent' | 'hello'

/** Keeps SILENT silent sockets or HELLOED hello'd silent connections to the node; reports counts. */
export function nodeAttackWorker(
  host: string,
  port: number,
  nodeId: string,
  family: Family,
  mode: NodeAttack,
): void {
  const from = (i: number): string =>
    family === 'v6' ? randomAddressIn64('fd00:9::') : `10.9.9.${1 + (i % 250)}`
  const codes: Record<string, number> = {}
  let opened = 0
  let admitted = 0
  let i = 0
  const again = (loop: () => Promise<void>): void => {
    setImmediate(() => void loop())
  }
  const silent = async (): Promise<void> => {
    opened++
    try {
      const s = await dial(host, port, from(i++))
      s.on('error', () => {})
      await new Promise((r) => s.once('close', r))
      count(codes, 'silent-closed')
    } catch (error) {
      count(codes, codeOf(error))
    }
    again(silent)
  }
  const helloed = async (): Promise<void> => {
    opened++
    try {
      const s = await dial(host, port, from(i++))
      const identity = NodeIdentity.generate()
      const up = await upgradeOutbound(s, {
        identity,
        nodeId: identity.nodeId,
        nonce: nonce(),
        expectedNodeId: nodeId,
      })
      admitted++
      await up.connection.closed
      admitted--
      count(codes, 'helloed-closed')
    } catch (error) {
      count(codes, codeOf(error))
    }
    again(helloed)
  }
  if (mode === 'silent') for (let k = 0; k < SILENT; k++) void silent()
  else for (let k = 0; k < HELLOED; k++) void helloed()
  setInterval(() => {
    process.stdout.write(`${JSON.stringify({ admitted, opened, codes })}\n`)
  }, 250)
}

/** `rounds` connect + line + echo, for LEGIT_MS at most; one JSON result line. */
export async function nodeLegitWorker(
  host: string,
  port: number,
  nodeId: string,
  rounds: number,
  family: Family,
) {
  const identity = NodeIdentity.generate()
  const ms: number[] = []
  const failures: Record<string, number> = {}
  const end = performance.now() + LEGIT_MS
  for (let r = 0; r < rounds; r++) {
    if (performance.now() > end) {
      count(failures, 'BENCH_DEADLINE', rounds - r)
      break
    }
    const t0 = performance.now()
    try {
      const s = await dial(host, port, legitAddress(family, r))
      const up = await upgradeOutbound(s, {
        identity,
        nodeId: identity.nodeId,
        nonce: nonce(),
        expectedNodeId: nodeId,
      })
      try {
        up.connection.sendLine(`hello ${r}`)
        const echo = await up.connection.readLine({ timeout: 5_000 })
        if (echo !== `hello ${r}`) throw new Error(`echo ${echo.slice(0, 20)}`)
        ms.push(performance.now() - t0)
      } finally {
        up.connection.close()
      }
    } catch (error) {
      count(failures, codeOf(error))
    }
  }
  process.stdout.write(`${JSON.stringify({ result: true, ms, failures })}\n`)
}
