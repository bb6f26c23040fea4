/**
 * Issue 18: hole punching in a `p2p` net. The rule on duplicates (both ends keep the connection asked
 * for by the larger node id, whichever way each was made), which listed nodes `bootstrap()` takes, and
 * simultaneous nodes on loopback that bootstrap at the same moment: they punch to each other (on
 * loopback @pyp2p/punch connects without a NAT in the way) and end with one shared connection per
 * pair. The NAT lab (matrix.lab.test.ts) shows the same through real NAT routers.
 */
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { ConnectionSet, type PeerInfo, peerInfo, placeIncoming, survivor } from '../src/connection-set.js'
import type { Net } from '../src/index.js'
import { listedUnl } from '../src/net-bootstrap.js'
import { pickNodes } from '../src/outbound.js'
import type { NodeEntry } from '../src/session.js'
import { until, WAIT_MS } from './helpers.js'

const A = 'aa'.repeat(20)
const B = 'bb'.repeat(20)

/** A stand-in for a LineSocket: what ConnectionSet reads of one (open state, close, the close event). */
function fakeCon(name: string): LineSocket {
  const e = new EventEmitter() as EventEmitter & { isOpen: boolean; close(): void; name: string }
  e.name = name
  e.isOpen = true
  e.close = () => {
    if (!e.isOpen) return
    e.isOpen = false
    e.emit('close', { reason: 'local' })
  }
  return e as unknown as LineSocket
}

function set(nodeId: string): ConnectionSet {
  return new ConnectionSet({
    netType: 'p2p',
    nodeId,
    maxInbound: 10,
    maxOutbound: 10,
    onAdd: () => {},
    onRemove: () => {},
  })
}

describe('one connection per node, decided the same way at both ends', () => {
  // Two connections between A and B: `ab` asked for by A, `ba` asked for by B. Each end sees each
  // connection from its side, and they arrive in either order.
  type View = (con: LineSocket, peer: string) => PeerInfo
  const cases: [string, View, View][] = [
    [
      'two punches at the same moment',
      (con, peer) => peerInfo(con, peer, 'outbound', 'punch'), // we punched
      (con, peer) => peerInfo(con, peer, ...placeIncoming('punch')), // punched to us
    ],
    [
      'two reverse connects at the same moment',
      (con, peer) => peerInfo(con, peer, 'outbound', 'reverse'), // we asked, it dialled
      (con, peer) => peerInfo(con, peer, ...placeIncoming('reverse')), // it asked, we dialled
    ],
    [
      'a bootstrap dial and a punch',
      (con, peer) => peerInfo(con, peer, 'outbound', 'bootstrap'),
      (con, peer) => peerInfo(con, peer, ...placeIncoming('punch')),
    ],
  ]
  for (const [name, asked, askedByPeer] of cases) {
    for (const order of ['ab first', 'ba first'] as const) {
      it(`${name} (${order}): both keep the one asked for by the larger id`, () => {
        // Each end has its own socket of each connection.
        const cons = {
          A: { ab: fakeCon('ab@A'), ba: fakeCon('ba@A') },
          B: { ab: fakeCon('ab@B'), ba: fakeCon('ba@B') },
        }
        const atA = { ab: asked(cons.A.ab, B), ba: askedByPeer(cons.A.ba, B) }
        const atB = { ab: askedByPeer(cons.B.ab, A), ba: asked(cons.B.ba, A) }
        const [sa, sb] = [set(A), set(B)]
        const arrive = order === 'ab first' ? (['ab', 'ba'] as const) : (['ba', 'ab'] as const)
        for (const k of arrive) {
          sa.add(cons.A[k], atA[k])
          sb.add(cons.B[k], atB[k])
        }
        // B > A: both keep the connection B asked for, and closed the other.
        expect(sa.live()).toEqual([cons.A.ba])
        expect(sb.live()).toEqual([cons.B.ba])
        expect([cons.A.ab.isOpen, cons.B.ab.isOpen]).toEqual([false, false])
        expect(sa.info(cons.A.ba)?.initiator).toBe('remote')
        expect(sb.info(cons.B.ba)?.initiator).toBe('local')
      })
    }
  }

  it('survivor(): the larger asker wins; the same asker twice keeps the first', () => {
    expect(survivor(B, A)).toBe('new')
    expect(survivor(A, B)).toBe('old')
    expect(survivor(A, A)).toBe('old')
  })

  it('says who asked and why', () => {
    const con = fakeCon('x')
    expect(peerInfo(con, B, ...placeIncoming('punch'))).toMatchObject({
      direction: 'inbound',
      method: 'punch',
      initiator: 'remote',
      reason: expect.stringMatching(/hole punch to us/),
    })
    expect(peerInfo(con, B, ...placeIncoming('reverse'))).toMatchObject({
      direction: 'outbound',
      initiator: 'remote',
    })
    expect(peerInfo(con, B, 'outbound', 'punch', 'local', 'because')).toMatchObject({ reason: 'because' })
  })
})

describe('which listed nodes bootstrap() takes', () => {
  const entry = (n: number, nodeType: NodeEntry['nodeType']): NodeEntry => ({
    nodeType,
    nodeId: String(n).repeat(40),
    ip: '11.0.0.9',
    port: 5000 + n,
  })
  const entries = [
    entry(1, 'passive'),
    entry(2, 'simultaneous'),
    entry(3, 'passive'),
    entry(4, 'simultaneous'),
  ]
  const base = {
    want: 10,
    pending: new Set<string>(),
    p2p: true,
    nodeId: A,
    ports: [5000],
    connected: () => false,
  }

  it('simultaneous nodes only when we punch (a simultaneous node in a p2p net)', () => {
    expect(pickNodes(entries, { ...base, punch: true }).map((e) => e.port)).toEqual([5001, 5002, 5003, 5004])
    expect(pickNodes(entries, { ...base, punch: false }).map((e) => e.port)).toEqual([5001, 5003])
    expect(pickNodes(entries, { ...base, punch: true, want: 3 })).toHaveLength(3)
    const connected = (id: string): boolean => id === entries[1]!.nodeId
    expect(pickNodes(entries, { ...base, punch: true, connected }).map((e) => e.port)).toEqual([
      5001, 5003, 5004,
    ])
  })

  it('a listed simultaneous node becomes a UNL the connector plans a punch for', () => {
    const unl = listedUnl(entry(2, 'simultaneous'))
    expect(unl).toMatchObject({
      nodeType: 'simultaneous',
      wanAddress: '11.0.0.9',
      port: 5002,
      lanAddress: '',
    })
    expect(unl.nodeId).toBe('2'.repeat(40))
  })
})

describe('bootstrap() in a p2p net punches to simultaneous nodes', () => {
  it('four simultaneous nodes bootstrapping at once: one shared punched connection per pair', async () => {
    await using tn = await createTestnet({
      nodes: 4,
      node: { nodeType: 'simultaneous', natType: 'preserving' },
    })
    const nets = tn.nodes as Net[]
    for (const n of nets) expect(n.startReport.nodeType).toBe('simultaneous')
    const made = await Promise.all(nets.map((n) => n.bootstrap({ signal: AbortSignal.timeout(WAIT_MS) })))
    // Every node made some; the pairs that punched both ways kept one connection.
    expect(made.flat().every((p) => p.method === 'punch')).toBe(true)
    const shared = (): boolean =>
      nets.every((n) => {
        const cons = n.connections()
        const peers = cons.map((c) => n.info(c)!.nodeId)
        if (cons.length !== nets.length - 1 || new Set(peers).size !== peers.length) return false
        // The other end holds the same connection (ports mirrored).
        return cons.every((c) => {
          const other = nets.find((o) => o.nodeId === n.info(c)!.nodeId)!
          return other
            .connections()
            .some((oc) => oc.localPort === c.remotePort && oc.remotePort === c.localPort)
        })
      })
    await until(nets, shared, 'one shared connection per pair')
    for (const n of nets) {
      for (const c of n.connections()) {
        const info = n.info(c)!
        expect(info.method).toBe('punch')
        expect(info.reason).toMatch(
          info.initiator === 'local'
            ? /^bootstrap\(\): the server listed it as simultaneous: both nodes are simultaneous .*hole punched/
            : /asked the bootstrap server for a hole punch to us/,
        )
      }
    }
    // Lines flow on the kept connections.
    const [a, b] = nets as [Net, Net]
    const ab = a.connections().find((c) => a.info(c)!.nodeId === b.nodeId)!
    const ba = b.connections().find((c) => b.info(c)!.nodeId === a.nodeId)!
    ab.sendLine('ping')
    expect(await ba.readLine({ timeout: WAIT_MS })).toBe('ping')
  })
})
