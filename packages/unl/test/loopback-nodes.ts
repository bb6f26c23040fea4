/**
 * The shared setup of the loopback connector tests: a dht-msg relay per test, and nodes on their own
 * loopback addresses (127.0.0.x) that reach it; everything a test started is closed after it.
 */
import { createServer, type Server } from 'node:net'
import { NodeIdentity, RelayClient } from '@pyp2p/dht-msg'
import { RelayServer } from '@pyp2p/dht-msg/server'
import { afterEach, beforeEach } from 'vitest'
import {
  type AdmissionRefusal,
  type ConnectorAdmission,
  type NodeType,
  type ReverseLimits,
  UNL,
  UnlConnector,
} from '../src/index.js'

export const WAIT = 10_000

export interface TestNode {
  connector: UnlConnector
  relay: RelayClient
  identity: NodeIdentity
  unl: UNL
  server?: Server
}

export interface NodeOptions {
  wan: string
  /** default: the WAN address */
  lan?: string
  /** default 'passive' (listens on its LAN address) */
  nodeType?: NodeType
  /** false: the connector gets no relay transport; default true */
  relay?: boolean
  reverseLimits?: ReverseLimits
  /** the connector's `admit` (default: admit all) */
  admit?: (r: ConnectorAdmission) => AdmissionRefusal | undefined
}

export interface LoopbackNodes {
  /** run after each test, last pushed first */
  readonly cleanups: Array<() => unknown>
  /** the port of this test's relay (on 127.0.0.1) */
  relayPort(): number
  /** A node on its own loopback address: listens there (if passive) and reaches the relay from its WAN address. */
  startNode(opts: NodeOptions): Promise<TestNode>
}

/** Registers the hooks (a relay per test, cleanups after it); call it at the top of the test file. */
export function loopbackNodes(): LoopbackNodes {
  const cleanups: Array<() => unknown> = []
  let relayPort = 0
  beforeEach(async () => {
    const relay = new RelayServer()
    relayPort = (await relay.listen({ host: '127.0.0.1', port: 0 })).port
    cleanups.push(() => relay.close())
  })
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })

  async function startNode(opts: NodeOptions): Promise<TestNode> {
    const lan = opts.lan ?? opts.wan
    const nodeType = opts.nodeType ?? 'passive'
    let server: Server | undefined
    let port = 0
    if (nodeType === 'passive') {
      server = createServer()
      await new Promise<void>((resolve) => server!.listen(0, lan, resolve))
      port = (server.address() as { port: number }).port
      cleanups.push(() => new Promise((resolve) => server!.close(resolve)))
    }
    // One key per node: the relay login and every secure handshake prove the same node id.
    const identity = NodeIdentity.generate()
    const relay = await RelayClient.connect({
      host: '127.0.0.1',
      port: relayPort,
      localAddress: opts.wan,
      identity,
      signal: AbortSignal.timeout(WAIT),
    })
    cleanups.push(() => relay.close())
    const unl = new UNL({
      nodeId: relay.nodeId,
      nodeType,
      natType: 'preserving',
      forwarding: 'manual',
      port,
      wanAddress: opts.wan,
      lanAddress: lan,
    })
    const connector = new UnlConnector({
      unl,
      identity,
      ...(opts.relay === false ? {} : { transport: relay }),
      ...(opts.reverseLimits !== undefined && { reverseLimits: opts.reverseLimits }),
      ...(opts.admit !== undefined && { admit: opts.admit }),
    })
    cleanups.push(() => connector.close())
    if (server) connector.acceptOn(server)
    return { connector, relay, identity, unl, ...(server && { server }) }
  }

  return { cleanups, relayPort: () => relayPort, startNode }
}
