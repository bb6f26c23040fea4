/**
 * NAT behaviour detection through the rendezvous server, as pyp2p did: connections from several fresh
 * local ports (kept open, so each is a new mapping), then reconnections from some of the same ports,
 * comparing the ports the server saw (its `HELLO`). {@link classifyNat} gives the verdict.
 */

import { setTimeout as sleep } from 'node:timers/promises'
import type { NodeIdentity } from '@pyp2p/identity'
import { NAT_TESTS, PORT_COLLISIONS, REUSE_RECONNECT_WAITS_MS, REUSE_TESTS } from './constants.js'
import { detectInbound } from './detect-inbound.js'
import { PunchError } from './errors.js'
import { classifyNat, type NatBehaviour, type NatSample } from './nat-type.js'
import { RendezvousClient, type ServerAddress } from './rendezvous-client.js'

export interface DetectNatOptions {
  server: ServerAddress
  /** Node id sent nowhere but checked like every client's; any 40 hex characters. */
  nodeId: string
  /**
   * The node's key, for uniformity with `punch()`: detection sends no command that acts as the node id,
   * so nothing is signed here yet. Default: none.
   */
  identity?: NodeIdentity
  /** New mappings to observe. Default {@link NAT_TESTS}. */
  tests?: number
  /** Reconnections from an already observed port. Default {@link REUSE_TESTS}. */
  reuseTests?: number
  /** Default {@link PORT_COLLISIONS}. */
  collisions?: number
  localAddress?: string
  /**
   * Also probe what the router does with unsolicited SYNs ({@link detectInbound}, one `CHECK` on its
   * own connection, in parallel with the port tests): default `false`. It costs up to
   * `INBOUND_PROBE_TIMEOUT_MS` (1 s) behind a router that drops them, and makes punches against
   * routers that reset them connect on the first SYN more often.
   */
  inbound?: boolean
  signal?: AbortSignal
}

/**
 * Observes the NAT in front of this host. Throws `PunchError` with stage `detection`
 * (`ERR_SERVER_UNREACHABLE`, `ERR_PROTOCOL`, `ERR_ABORTED`, ...). Opens `tests` connections at once (a
 * server's per-IP connection limit must allow that many from one node).
 */
export async function detectNat(options: DetectNatOptions): Promise<NatBehaviour> {
  const { server, nodeId, signal, tests = NAT_TESTS, reuseTests = REUSE_TESTS } = options
  const collisions = options.collisions ?? PORT_COLLISIONS
  if (!Number.isInteger(tests) || tests < 1) throw PunchError.INVALID_ARGUMENT(`tests ${tests}`)
  if (!Number.isInteger(reuseTests) || reuseTests < 0 || reuseTests > tests) {
    throw PunchError.INVALID_ARGUMENT(`reuseTests ${reuseTests} (0..tests)`)
  }
  const base = {
    server,
    nodeId,
    ...(options.identity !== undefined && { identity: options.identity }),
    stage: 'detection' as const,
    ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
    ...(signal !== undefined && { signal }),
  }
  const open: RendezvousClient[] = []
  const samples: NatSample[] = []
  const inbound = options.inbound === true ? detectInbound(base) : undefined
  // Settled (and its connection closed) on every path; its rejection is reported below.
  inbound?.catch(() => undefined)
  try {
    // New mappings, one after the other so a sequential NAT hands out consecutive ports.
    for (let i = 0; i < tests; i++) {
      const client = await RendezvousClient.connect({ ...base, localPort: 0 })
      open.push(client)
      samples.push({ localPort: client.localPort, externalPort: client.observed.port })
    }
    // Reuse: close (server first, so no TIME_WAIT here), then connect again from the same port.
    for (let i = 0; i < reuseTests; i++) {
      const earlier = open[i]!
      await earlier.quit()
      const again = await reconnectFrom(
        () => RendezvousClient.connect({ ...base, localPort: earlier.localPort }),
        signal,
      )
      open.push(again)
      samples.push({ localPort: again.localPort, externalPort: again.observed.port })
    }
  } finally {
    await Promise.all([
      ...open.map((c) => c.quit({ timeout: 1000 }).catch(() => undefined)),
      inbound?.catch(() => undefined),
    ])
  }
  const verdict = classifyNat(samples, { collisions })
  const policy = await inbound
  return policy === undefined ? verdict : { ...verdict, inbound: policy }
}

/** Whether `err` (or an error it was caused by) says the local address and port are still taken. */
function portStillTaken(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (code === 'EADDRNOTAVAIL' || code === 'EADDRINUSE') return true
  }
  return false
}

/**
 * `connect()` from a port whose last connection the server just closed: tried again after each of
 * {@link REUSE_RECONNECT_WAITS_MS} while that connection lingers (the port is still taken), so a
 * reuse test works over links with latency, not only in a lab without it. Other failures at once.
 */
async function reconnectFrom(
  connect: () => Promise<RendezvousClient>,
  signal: AbortSignal | undefined,
): Promise<RendezvousClient> {
  for (let i = 0; ; i++) {
    try {
      return await connect()
    } catch (err) {
      const wait = REUSE_RECONNECT_WAITS_MS[i]
      if (wait === undefined || !portStillTaken(err)) throw err
      await sleep(wait, undefined, signal === undefined ? {} : { signal }).catch(() => {
        throw PunchError.ABORTED('detection', signal?.reason)
      })
    }
  }
}
