/**
 * `net.start()`: relay identity → bootstrap server → listening socket → node type → UNL → connector.
 * Every resource is handed to the Net as soon as it exists, so a failed or aborted start is torn down
 * by `stop()` like a finished one.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { type MessageTransport, RelayClient } from '@pyp2p/dht-msg'
import { type LineSocket, plainAddress } from '@pyp2p/framing'
import { NatClient } from '@pyp2p/nat'
import { detectNat, type NatBehaviour, type RendezvousSession } from '@pyp2p/punch'
import { type IncomingConnection, RendezvousPuncher, UNL, UnlConnector } from '@pyp2p/unl'
import type createDebug from 'debug'
import {
  FORWARDING_DESCRIPTION,
  FORWARDING_TIMEOUT_MS,
  FORWARDING_TTL_S,
  NODE_ID_BYTES,
} from './constants.js'
import { DialBackListener } from './dial-back-listener.js'
import { NetError } from './errors.js'
import { InboundListener } from './inbound.js'
import { firstExternalAddress, interfaceAddress, isLoopback, isUnspecified } from './local-addresses.js'
import { determineNodeType, type ForwardedPort, type NodeTypeReport } from './node-type.js'
import type { ResolvedNetOptions } from './options.js'
import { ServerDialBackProbe } from './server-dial-back-probe.js'
import { createSession, openSession } from './session.js'

export interface StartReport extends NodeTypeReport {
  nodeId: string
  /** The listening port. */
  port: number
  lanAddress: string
  /** The bootstrap server that answered (`host:port`), when one was configured. */
  server: string | undefined
  /** Our UNL's text. */
  unl: string
  durationMs: number
}

export interface NetResources {
  nodeId: string
  unl: UNL
  report: StartReport
  listener: InboundListener
  connector: UnlConnector
  session: RendezvousSession | undefined
  /** Punches for `net.unl.connect()` and answers challenges on the session (with a server). */
  puncher: RendezvousPuncher | undefined
  nat: NatBehaviour | undefined
  releaseForwarding(): Promise<void>
  closeRelay(): Promise<void>
}

export interface StartHooks {
  /** Receives the resources object at once; it is filled in as start() goes. */
  adopt(res: Partial<NetResources>): void
  onIncoming(con: LineSocket, nodeId: string): void
  /** A connection the connector made or took for us: a reverse dial-back, or a punch to us. */
  onConnector(incoming: IncomingConnection): void
  inboundCount(): number
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

  // 1. Identity: the relay's (its node id is a key hash), or ours.
  let transport: MessageTransport | undefined
  if (o.dhtNode !== undefined && 'subscribe' in o.dhtNode) {
    transport = o.dhtNode
  } else if (o.dhtNode !== undefined) {
    const relay = await abortable(RelayClient.connect({ host: o.dhtNode.host, port: o.dhtNode.port, signal }))
    res.closeRelay = () => relay.close()
    transport = relay
  }
  const nodeId = transport?.nodeId ?? o.nodeId ?? randomBytes(NODE_ID_BYTES).toString('hex')
  res.nodeId = nodeId

  // 2. A bootstrap server (required for p2p nets: it is how nodes find each other).
  let session: RendezvousSession | undefined
  if (o.servers.length > 0) {
    session = createSession(o.servers, nodeId)
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
      lineLimits: o.lineLimits,
      maxInbound: o.maxInbound,
      inboundCount: hooks.inboundCount,
      handle: (con, s) =>
        dialBacks.screen(con, s.signal, async (signal) =>
          (await whenConnector(signal)).handleIncoming(con, { signal }),
        ),
      onIncoming: (incoming) => hooks.onIncoming(incoming.connection, incoming.nodeId),
      log,
    },
    signal,
  )
  res.listener = listener
  const listen = listener.address

  // 4. Node type (and port forwarding, NAT type) with reasons.
  let natClient: NatClient | undefined
  let behaviour: NatBehaviour | undefined
  const forwardSkipped = !o.enableForwarding
    ? 'disabled (enableForwarding: false)'
    : isLoopback(o.passiveBind)
      ? `passiveBind ${o.passiveBind} is a loopback address`
      : undefined
  const server = session?.server
  let typeReport: NodeTypeReport
  if (session === undefined) {
    const nodeType = o.nodeType ?? 'passive'
    typeReport = {
      nodeType,
      natType: o.natType ?? 'unknown',
      forwarding: 'none',
      wanAddress: '',
      externalPort: undefined,
      reachability: 'unknown',
      reasons: [
        `node type ${nodeType}: no bootstrap server, so ${o.nodeType ? 'as given' : 'assumed reachable on the LAN'}`,
      ],
    }
  } else {
    typeReport = await determineNodeType({
      netType: o.netType,
      nodeType: o.nodeType,
      natType: o.natType,
      listen,
      observed: session.observed,
      probe:
        o.reachability ??
        new ServerDialBackProbe({
          server: () => session?.server,
          listener: dialBacks,
        }),
      forward:
        forwardSkipped === undefined
          ? async (s): Promise<ForwardedPort> => {
              natClient = o.natClient ?? new NatClient({ timeout: FORWARDING_TIMEOUT_MS })
              const nat = natClient
              res.releaseForwarding = () =>
                o.natClient === undefined
                  ? nat.close()
                  : nat.unmap({ internalPort: listen.port, protocol: 'TCP' }).catch(() => undefined)
              const m = await nat.map({
                internalPort: listen.port,
                ttl: FORWARDING_TTL_S,
                description: FORWARDING_DESCRIPTION,
                signal: s,
              })
              // A UNL knows UPnP and NAT-PMP; PCP (NAT-PMP's successor, same port) is written as NAT-PMP.
              const method = m.method === 'upnp' ? 'upnp' : 'natpmp'
              return { method, externalAddress: m.externalAddress, externalPort: m.externalPort }
            }
          : undefined,
      forwardSkipped,
      unforward: async () => {
        await res.releaseForwarding?.()
        res.releaseForwarding = noop
      },
      detectNat:
        server === undefined
          ? undefined
          : async (s) => {
              // With the inbound probe, as @pyp2p/unl's RendezvousPuncher detects: it lets the server
              // fire a RST-router side first (see @pyp2p/punch's README).
              behaviour = await detectNat({ server, nodeId, inbound: true, signal: s })
              return behaviour.type
            },
      signal,
    })
  }
  res.nat = behaviour

  // 5. Our UNL.
  const lanAddress = lanAddressOf(o, session?.localAddress)
  const unl = new UNL({
    nodeId,
    nodeType: typeReport.nodeType,
    natType: typeReport.natType,
    forwarding: typeReport.forwarding,
    port: listen.port,
    wanAddress: typeReport.wanAddress || lanAddress,
    lanAddress,
    ...(typeReport.externalPort !== undefined && { externalPort: typeReport.externalPort }),
  })
  res.unl = unl

  // 6. The connector behind net.unl.connect(), bootstrap() and the listener; its puncher answers
  // challenges on our session once advertise() registered us as simultaneous.
  const puncher =
    session === undefined
      ? undefined
      : RendezvousPuncher.onSession(session, behaviour === undefined ? {} : { nat: behaviour })
  res.puncher = puncher
  connector = new UnlConnector({
    unl,
    ...(transport !== undefined && { transport }),
    ...(puncher !== undefined && { puncher }),
    dialTimeout: o.dialTimeout,
    helloTimeout: o.helloTimeout,
    lineLimits: o.lineLimits,
  })
  for (const ready of connectorWaiters) ready(connector)
  connectorWaiters.clear()
  connector.on('connection', hooks.onConnector)
  connector.on('refused', ({ from, error }) =>
    log('reverse-connect request from %s refused: %s', from, error.message),
  )
  res.connector = connector

  const report: StartReport = {
    ...typeReport,
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

/** The `interface` option's address; else the bound one; else the one that reaches the server. */
function lanAddressOf(o: ResolvedNetOptions, towardsServer: string | undefined): string {
  if (o.interface !== 'default') {
    const a = interfaceAddress(o.interface)
    if (a === undefined)
      throw NetError.INVALID_OPTION('interface', o.interface, 'a network interface with an address')
    return a
  }
  if (!isUnspecified(o.passiveBind)) return o.passiveBind
  if (towardsServer !== undefined) return plainAddress(towardsServer)
  return firstExternalAddress() ?? '127.0.0.1'
}
