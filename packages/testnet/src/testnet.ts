/**
 * `createTestnet()`: a bootstrap server (with its embedded message relay when asked), and n started
 * nodes, all on loopback, handed back together and torn down with one `close()` (hyperdht's
 * `testnet.js`, for pyp2p). Nodes listen on ports the OS picks, never try port forwarding, and never
 * leave 127.0.0.1.
 */
import { BootstrapServer, type BootstrapServerOptions } from '@pyp2p/bootstrap-server'
import type { RelayServer } from '@pyp2p/dht-msg/server'
import { Net, type NetOptions } from '@pyp2p/net'
import createDebug from 'debug'
import { DEFAULT_NODES, LOOPBACK, MAX_NODES, TESTNET_CHECK_BURST } from './constants.js'
import { TestnetError } from './errors.js'

const log = createDebug('pyp2p:testnet')

export interface TestnetNodeOptions extends NetOptions {
  /** Register with the bootstrap server after start (passive nodes are then listed). Default true. */
  advertise?: boolean
  /** Connect to listed nodes after start (and after the other nodes advertised). Default false. */
  bootstrap?: boolean
}

export interface TestnetOptions {
  /** Nodes to start. Default 3. */
  nodes?: number
  /** Options for every node (the testnet's server, loopback address and port 0 are filled in). */
  node?: TestnetNodeOptions
  /**
   * Serve the bootstrap server's embedded @pyp2p/dht-msg relay and give every node a connection to it
   * (reverse connect). Default false.
   */
  relay?: boolean
  /** Options of the bootstrap server (host and port are the testnet's). */
  server?: Omit<BootstrapServerOptions, 'host' | 'port'>
  signal?: AbortSignal
}

export interface Testnet extends AsyncDisposable {
  /** The bootstrap server (for its `stats()` and node table). */
  readonly server: BootstrapServer
  /** Its address, as `host:port` for the `servers` option. */
  readonly serverAddress: string
  /** The relay embedded in `server` when `relay: true` (its `sessionCount`, `queuedCount`). */
  readonly relay: RelayServer | undefined
  /** The relay's address when `relay: true`: the same as `serverAddress` (one port serves both). */
  readonly relayAddress: string | undefined
  /** The started nodes, in creation order (nodes made by `createNode()` are appended). */
  readonly nodes: Net[]
  /** Starts one more node on this testnet (its options over the testnet's `node` options). */
  createNode(options?: TestnetNodeOptions): Promise<Net>
  /** Stops every node, then the relay and the server. Idempotent; never rejects. */
  close(): Promise<void>
}

/** Starts the testnet. On any failure everything already started is closed and the error is thrown. */
export async function createTestnet(options: TestnetOptions = {}): Promise<Testnet> {
  const count = options.nodes ?? DEFAULT_NODES
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_NODES) {
    throw TestnetError.INVALID_OPTION('nodes', count, `an integer 0..${MAX_NODES}`)
  }
  const { signal } = options
  // Every node on one IP checks its port once: the per-IP dial-back limit must let them all.
  const server = new BootstrapServer({
    checkBurst: TESTNET_CHECK_BURST,
    relay: options.relay === true,
    ...options.server,
    host: LOOPBACK,
    port: 0,
  })
  const nodes: Net[] = []
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled(nodes.map((n) => n.stop()))
      await server.close().catch((err: unknown) => log('closing the server: %s', err))
      log('closed')
    })()
    return closing
  }
  try {
    const { port } = await server.listen(signal === undefined ? {} : { signal })
    const serverAddress = `${LOOPBACK}:${port}`
    const relay = options.relay === true ? server.relay : undefined
    const relayAddress = relay === undefined ? undefined : serverAddress
    const createNode = async (nodeOptions: TestnetNodeOptions = {}): Promise<Net> => {
      const { advertise = true, bootstrap = false, ...netOptions } = { ...options.node, ...nodeOptions }
      const net = new Net({
        passiveBind: LOOPBACK,
        passivePort: 0,
        enableForwarding: false,
        servers: [serverAddress],
        ...(relayAddress !== undefined && { dhtNode: relayAddress }),
        ...netOptions,
      })
      nodes.push(net)
      await net.start(signal === undefined ? {} : { signal })
      if (advertise) await net.advertise(signal === undefined ? {} : { signal })
      if (bootstrap) await net.bootstrap(signal === undefined ? {} : { signal })
      return net
    }
    // Start and advertise all first, then bootstrap, so every node can find every other.
    const wantBootstrap = options.node?.bootstrap ?? false
    for (let i = 0; i < count; i++) await createNode({ bootstrap: false })
    if (wantBootstrap)
      await Promise.all(nodes.map((n) => n.bootstrap(signal === undefined ? {} : { signal })))
    log('testnet of %d nodes on %s', count, serverAddress)
    return {
      server,
      serverAddress,
      relay,
      relayAddress,
      nodes,
      createNode,
      close,
      [Symbol.asyncDispose]: close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
