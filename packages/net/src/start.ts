/**
 * `net.start()`: relay identity → bootstrap server → listening socket → node type → UNL → connector.
 * Every resource is handed to the Net as soon as it exists, so a failed or aborted start is torn down
 * by `stop()` like a finished one.
 */
import { performance } from 'node:perf_hooks'
import { type MessageTransport, RelayClient } from '@pyp2p/dht-msg'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import type { NatBehaviour, RendezvousSession } from '@pyp2p/punch'
import {
  type IncomingConnection,
  RendezvousPuncher,
  rawLineOptions,
  UNL,
  UnlConnector,
  withIpv6,
} from '@pyp2p/unl'
import type createDebug from 'debug'
import { DialBackListener } from './dial-back-listener.js'
import { NetError } from './errors.js'
import { firstBytesTimeout, InboundListener, silentPeer } from './inbound.js'
import { lanAddressOf } from './lan-address.js'
import { advertisedIpv6 } from './local-addresses.js'
import type { NodeTypeReport } from './node-type.js'
import type { ResolvedNetOptions } from './options.js'
import { hostPort } from './relay-host.js'
import { type Relaying, startRelaying } from './relaying.js'
import { resolveIdentity } from './resolve-identity.js'
import { createSession, openSession, serverReasons } from './session.js'
import { nodeTypeOf } from './start-node-type.js'

export interface StartReport extends NodeTypeReport {
  nodeId: string
  /** The listening port. */
  port: number
  lanAddress: string
  /** The bootstrap server that answered (`host:port`), when one was configured. */
  server: string | undefined
  /** Our UNL's text. */
  unl: string
  /** Where this node serves a circuit relay for others (`host:port`, `circuitRelay.serve`), if it does. */
  circuitRelay?: string
  durationMs: number
}

export interface NetResources {
  nodeId: string
  /** Our key: it proves `nodeId` on every secure connection and to the relay. */
  identity: NodeIdentity
  unl: UNL
  report: StartReport
  listener: InboundListener
  connector: UnlConnector
  session: RendezvousSession | undefined
  /** Punches for `net.unl.connect()` and answers challenges on the session (with a server). */
  puncher: RendezvousPuncher | undefined
  nat: NatBehaviour | undefined
  relaying: Relaying
  releaseForwarding(): Promise<void>
  closeRelay(): Promise<void>
}

export interface StartHooks {
  /** Receives the resources object at once; it is filled in as start() goes. */
  adopt(res: Partial<NetResources>): void
  onIncoming(con: LineSocket, nodeId: string): void
  /** A connection the connector made or took for us: a reverse dial-back, or a punch to us. */
  onConnector(incoming: IncomingConnection): void
  admit: NonNullable<ConstructorParameters<typeof UnlConnector>[0]['admit']> // after a hello: admitTo
  /** Our relay reservation moved (a server failover, or down `reserveAt`): `res.unl` names the new relay. */
  onRelayMoved(info: RelayMovedInfo): void
}

/** The `relay:moved` event's payload: where the reservation was (`host:port`), where it is, our new UNL. */
export interface RelayMovedInfo {
  from: string | undefined
  to: string
  unl: string
}

const noop = async (): Promise<void> => {}

export async function startNet(
  o: ResolvedNetOptions,
  log: createDebug.Debugger,
  signal: AbortSignal,
  hooks: StartHooks,
): Promise<StartReport> {
  const t0 = performance.now()
  const res: Partial<NetResources> = { releaseForwarding: noop, closeRelay: noop }
  hooks.adopt(res)
  const abortable = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p
    } catch (err) {
      if (signal.aborted) throw NetError.ABORTED(signal.reason)
      throw err
    }
  }

  // 1. Identity: one key for the relay, the connections and the node id.
  const given = o.dhtNode !== undefined && 'subscribe' in o.dhtNode ? o.dhtNode : undefined
  const identity = await abortable(resolveIdentity(o, given))
  res.identity = identity
  let transport: MessageTransport | undefined = given
  if (o.dhtNode !== undefined && given === undefined) {
    const { host, port } = o.dhtNode as { host: string; port: number }
    const relay = await abortable(RelayClient.connect({ host, port, identity, signal }))
    res.closeRelay = () => relay.close()
    transport = relay
  }
  const nodeId = o.secure ? identity.nodeId : (transport?.nodeId ?? o.nodeId ?? identity.nodeId)
  res.nodeId = nodeId
  // The key proves our id to the bootstrap server too (signed commands), when the id is the key's.
  const proof = nodeId === identity.nodeId ? { identity } : {}

  // 2. A bootstrap server (required for p2p nets: it is how nodes find each other).
  let session: RendezvousSession | undefined
  if (o.servers.length > 0) {
    session = createSession(o.servers, nodeId, proof.identity)
    res.session = session
    await openSession(session, o.servers, signal)
  } else if (o.netType === 'p2p') {
    throw NetError.NO_SERVER([])
  }

  // 3. The listening socket. Every accepted connection is screened for the bootstrap server's
  // dial-back probe (dropped quietly, never a peer); the rest wait for the connector (step 6), which
  // reads their hello. A peer that connects while start() still runs is served once it is done.
  let connector: UnlConnector | undefined
  const connectorWaiters = new Set<(c: UnlConnector) => void>()
  const whenConnector = (s: AbortSignal): Promise<UnlConnector> =>
    connector !== undefined
      ? Promise.resolve(connector)
      : new Promise((resolve, reject) => {
          const onAbort = (): void => {
            connectorWaiters.delete(ready)
            reject(s.reason)
          }
          const ready = (c: UnlConnector): void => {
            s.removeEventListener('abort', onAbort)
            resolve(c)
          }
          if (s.aborted) return reject(s.reason)
          connectorWaiters.add(ready)
          s.addEventListener('abort', onAbort, { once: true })
        })
  const dialBacks = new DialBackListener()
  const listener = await InboundListener.listen(
    {
      host: o.passiveBind,
      port: o.passivePort,
      maxPending: o.maxPendingHandshakes,
      limits: o.inboundLimits,
      // Screened for the server's probe first; a peer silent past the handshake timeout is dropped.
      handle: (socket, s) => {
        const first = anySignal(s.signal, AbortSignal.timeout(firstBytesTimeout(o)))
        return dialBacks.screen(socket, first, async () => {
          if (first.aborted && !s.signal.aborted) throw silentPeer(socket, o)
          return (await whenConnector(s.signal)).handleIncoming(socket, { signal: s.signal })
        })
      },
      onIncoming: (incoming) => hooks.onIncoming(incoming.connection, incoming.nodeId),
      log,
    },
    signal,
  )
  res.listener = listener
  const listen = listener.address

  // 4. Node type (and port forwarding, NAT type) with reasons (start-node-type.ts).
  const server = session?.server
  const { typeReport, behaviour } = await nodeTypeOf(
    o,
    { session, nodeId, proof, listen, dialBacks, forwarding: res },
    signal,
  )
  res.nat = behaviour

  // 5. Our UNL, naming our relay when we hold a reservation there; the relay we serve (relaying.ts).
  const lanAddress = lanAddressOf(o, session?.localAddress)
  const relayHost = { ...typeReport, host: typeReport.wanAddress || lanAddress }
  const relaying = await startRelaying(o, server, relayHost, identity, signal, log)
  res.relaying = relaying
  // IPv6: the address we listen on (or, on '::', our global one) for peers with IPv6 (TLV_IPV6_ADDRESS)
  const bare = withIpv6(
    new UNL({
      nodeId,
      nodeType: typeReport.nodeType,
      natType: typeReport.natType,
      forwarding: typeReport.forwarding,
      port: listen.port,
      wanAddress: typeReport.wanAddress || lanAddress,
      lanAddress,
      ...(typeReport.externalPort !== undefined && { externalPort: typeReport.externalPort }),
    }),
    advertisedIpv6(listen.address, o.ipv6Address),
  )
  const unl = relaying.name(bare)
  res.unl = unl

  // 6. The connector behind net.unl.connect(), bootstrap() and the listener; its puncher answers
  // challenges on our session once advertise() registered us as simultaneous.
  const puncher =
    session === undefined
      ? undefined
      : RendezvousPuncher.onSession(session, {
          // Punched sockets are left unread for the connector's handshake (the upgrade step).
          lineOptions: rawLineOptions(o.lineLimits),
          limits: o.punchLimits,
          ...proof,
          ...(behaviour !== undefined && { nat: behaviour }),
        })
  res.puncher = puncher
  connector = new UnlConnector({
    unl,
    identity,
    secure: o.secure,
    handshakeTimeout: o.handshakeTimeout,
    ...(o.ciphers !== undefined && { ciphers: o.ciphers }),
    ...(transport !== undefined && { transport }),
    ...(puncher !== undefined && { puncher }),
    ...(relaying.relayer !== undefined && { relayer: relaying.relayer, relayUpgrade: o.relayUpgrade }),
    dialTimeout: o.dialTimeout,
    helloTimeout: o.helloTimeout,
    lineLimits: o.lineLimits,
    admit: hooks.admit,
    heartbeatInterval: o.heartbeatInterval,
    heartbeatTimeout: o.heartbeatTimeout,
  })
  for (const ready of connectorWaiters) ready(connector)
  connectorWaiters.clear()
  connector.on('connection', hooks.onConnector)
  // Our reservation follows a server failover, or moves down `reserveAt` (relaying.ts); our UNL
  // then names the new relay.
  const con = connector
  relaying.follow(session, (from, to) => {
    const moved = relaying.name(bare)
    res.unl = moved
    con.setUnl(moved)
    hooks.onRelayMoved({ from: from && hostPort(from), to: hostPort(to), unl: moved.text })
  })
  connector.on('refused', ({ from, error }) =>
    log('reverse-connect request from %s refused: %s', from, error.message),
  )
  res.connector = connector

  const report: StartReport = {
    ...typeReport,
    reasons: [
      ...typeReport.reasons,
      ...(server === undefined ? [] : serverReasons(o.servers, server)),
      ...relaying.reasons,
    ],
    ...(relaying.served !== undefined && { circuitRelay: hostPort(relaying.served.address) }),
    nodeId,
    port: listen.port,
    lanAddress,
    server: server === undefined ? undefined : `${server.host}:${server.port}`,
    unl: unl.text,
    durationMs: performance.now() - t0,
  }
  res.report = report
  return report
}
