/**
 * The bootstrap server's embedded message relay under attack from one prefix (bench/src/attack.ts,
 * issue 21 "Message relay"). One worker process: an attacker on 10.9.9.0/24 (fresh node ids, node ids
 * are free) that sends at full rate either to one offline node, Bob (`offline`: filling his queue), or
 * 4 KB messages to random node ids (`total`: filling the relay's queue), for ATTACK_MS alone and on
 * until the legitimate part ends; then five legitimate senders from 10.8.8.0/24 queue two messages
 * each for Bob (timed from send to the relay's acceptance), and Bob comes online and must get all ten.
 */
import {
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_BYTES,
  MAX_QUEUED_PER_NODE,
  NodeIdentity,
  RelayClient,
} from '@pyp2p/dht-msg'
import { codeOf, count } from './attack-common.js'

const ATTACK_MS = 5_000
/** Attacker senders at once; each a fresh node id from its own address of the /24. */
const SENDERS = 8
/** Messages one attacker node id sends before the next is made. */
const PER_ID = 40
const LEGIT_SENDERS = 5
const PER_LEGIT = 2
const WAIT = 10_000

export type RelayAttack = 'none' | 'offline' | 'total'

export async function relayWorker(host: string, port: number, attack: RelayAttack): Promise<void> {
  const bob = NodeIdentity.generate()
  const codes: Record<string, number> = {}
  let accepted = 0
  let acceptedBytes = 0
  let stop = false
  let n = 0
  const payload = attack === 'total' ? 'x'.repeat(MAX_MESSAGE_BYTES - 16) : 'spam'
  const sender = async (): Promise<void> => {
    while (!stop) {
      const localAddress = `10.9.9.${1 + (n++ % 250)}`
      let c: RelayClient | undefined
      try {
        c = await RelayClient.connect({ host, port, localAddress, reconnect: false })
        for (let k = 0; k < PER_ID && !stop; k++) {
          const to = attack === 'offline' ? bob.nodeId : NodeIdentity.generate().nodeId
          await c.send(to, payload).then(
            () => {
              accepted++
              acceptedBytes += payload.length
            },
            (e: unknown) => count(codes, codeOf(e)),
          )
        }
      } catch (error) {
        count(codes, codeOf(error))
        await new Promise((r) => setImmediate(r))
      } finally {
        await c?.close()
      }
    }
  }
  const attackers = attack === 'none' ? [] : Array.from({ length: SENDERS }, () => sender())
  if (attack !== 'none') await new Promise((r) => setTimeout(r, ATTACK_MS))
  const filled = { messages: accepted, bytes: acceptedBytes }
  const ms: number[] = []
  const failures: Record<string, number> = {}
  const sent = new Set<string>()
  for (let s = 0; s < LEGIT_SENDERS; s++) {
    const localAddress = `10.8.8.${s + 1}`
    const alice = await RelayClient.connect({ host, port, localAddress, reconnect: false }).catch((e) => {
      count(failures, codeOf(e), PER_LEGIT)
    })
    if (alice === undefined) continue
    for (let k = 0; k < PER_LEGIT; k++) {
      const text = `legit ${s} ${k}`
      const t0 = performance.now()
      await alice.send(bob.nodeId, text).then(
        () => {
          ms.push(performance.now() - t0)
          sent.add(text)
        },
        (e: unknown) => count(failures, codeOf(e)),
      )
    }
    await alice.close()
  }
  const bobClient = await RelayClient.connect({
    host,
    port,
    localAddress: '10.8.8.100',
    identity: bob,
    reconnect: false,
  })
  const got = new Set<string>()
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, WAIT)
    bobClient.on('message', (m) => {
      if (sent.has(m.message)) got.add(m.message)
      if (got.size === sent.size) {
        clearTimeout(t)
        resolve()
      }
    })
    if (sent.size === 0) resolve()
  })
  stop = true
  await Promise.all(attackers)
  await bobClient.close()
  const requests = LEGIT_SENDERS * PER_LEGIT
  if (got.size < sent.size) count(failures, 'NOT_DELIVERED', sent.size - got.size)
  // Share: of Bob's queue (offline), of the relay's bytes (total).
  const share = attack === 'offline' ? filled.messages / MAX_QUEUED_PER_NODE : filled.bytes / MAX_QUEUED_BYTES
  const result = { result: true, requests, delivered: got.size, ms, failures, share, filled, codes }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
