/**
 * The connector's relay method in one place: what the plan needs to know (a relayer, and whether it
 * can reach them), the attempt (a circuit from the Relayer, then the connector's outbound upgrade over
 * it: the handshake runs end to end, the relay sees only ciphertext), which relay each connection runs
 * through (for `ConnectResult.relay`), and the circuits others open to us. Every relayed connection's
 * lines run through relay-lines.ts (tagged lines, the typed reason a circuit ended), and the two ends
 * try once to move them to a direct or punched connection (relay-upgrade.ts).
 */
import type { Socket } from 'node:net'
import type { LineLimits, LineSocket } from '@pyp2p/framing'
import type { PendingReverse } from './accept-incoming.js'
import type { AdmissionRefusal } from './connect-hello.js'
import type { Capabilities, PlannedMethod } from './connect-plan.js'
import type {
  ConnectorAdmission,
  IncomingConnection,
  RelayUpgradeEvent,
  UnlConnectorOptions,
} from './connector-options.js'
import { RELAY_UPGRADE_TIMEOUT_MS } from './constants.js'
import type { ConnectMethod, UnlError } from './errors.js'
import { RelayedLines } from './relay-lines.js'
import { answerUpgrades, tryUpgrade, type UpgradeHost } from './relay-upgrade.js'
import type { RelayedConnection, Relayer } from './relayer.js'
import type { UNL } from './unl.js'

/** What the relay side needs from the connector (its private parts, handed over once). */
export interface ConnectorHooks {
  /** Our current UNL. */
  ours(): UNL
  /** The connector's attempt by one method, with this hello nonce (past upgrade.ts). */
  attempt(m: PlannedMethod, theirs: UNL, signal: AbortSignal, nonce: string): Promise<LineSocket>
  /** The connector's table of connections we wait for, by hello nonce (as for reverse connects). */
  pending: Map<string, PendingReverse>
  /** The connector's `emit`, for its `upgrade` and `upgradeFailed` events. */
  emit(event: 'upgrade', e: RelayUpgradeEvent): boolean
  emit(event: 'upgradeFailed', e: { connection: LineSocket; nodeId: string; error: UnlError }): boolean
}

export class RelaySide {
  readonly #relayer: Relayer | undefined
  readonly #lineLimits: LineLimits | undefined
  readonly #host: UpgradeHost
  readonly #emit: ConnectorHooks['emit']
  readonly #relayed = new WeakMap<LineSocket, string>()
  readonly #circuits = new WeakMap<Socket, RelayedConnection>()
  readonly #wrapped = new WeakMap<LineSocket, RelayedLines>()
  readonly #upgrading = new Map<string, number>()

  constructor(options: UnlConnectorOptions, closing: AbortSignal, hooks: ConnectorHooks) {
    this.#relayer = options.relayer
    this.#lineLimits = options.lineLimits
    this.#emit = hooks.emit
    const { pending } = hooks
    this.#host = {
      enabled: options.relayUpgrade ?? true,
      ours: hooks.ours,
      punch: options.puncher !== undefined,
      attempt: (m, theirs, nonce, signal) => hooks.attempt(m, theirs, signal, nonce),
      expect: (nonce, nodeId, resolve, refuse) => {
        pending.set(nonce, { nodeId, resolve, refuse })
        return () => pending.delete(nonce)
      },
      failed: () => {},
      closing,
      timeout: options.relayUpgradeTimeout ?? RELAY_UPGRADE_TIMEOUT_MS,
    }
  }

  /** The plan's relay capabilities towards `theirs`. */
  capabilities(theirs: UNL): Pick<Capabilities, 'relay' | 'relayUnavailable'> {
    return { relay: this.#relayer !== undefined, relayUnavailable: this.#relayer?.unavailable(theirs) }
  }

  /** A circuit to `theirs`, past `upgrade` (the connector's outbound step, as for a dial). */
  async attempt(
    ours: UNL,
    theirs: UNL,
    nonce: string,
    signal: AbortSignal,
    upgrade: (socket: Socket, nonce: string, expected: string, signal: AbortSignal) => Promise<LineSocket>,
  ): Promise<LineSocket> {
    const c = await this.#relayer!.dial({ ours, theirs, signal })
    this.#circuits.set(c.socket, c)
    const lines = this.#wrap(await upgrade(c.socket, nonce, theirs.nodeId, signal), theirs.nodeId)
    this.#relayed.set(lines.connection, c.relay)
    const failed = (error: UnlError): boolean =>
      this.#emit('upgradeFailed', { connection: lines.connection, nodeId: theirs.nodeId, error })
    if (this.#host.enabled) void tryUpgrade(lines, theirs, { ...this.#host, failed })
    return lines.connection
  }

  /** The relay (`host:port`) a connection we made runs through, when it is relayed. */
  of(con: LineSocket): string | undefined {
    return this.#relayed.get(con)
  }

  // The application's connection for a circuit a peer opened to us, past the inbound upgrade (the
  // same one each call for one circuit: admission sees it before the connector delivers it).
  #incoming(inner: LineSocket, nodeId: string): LineSocket {
    return (this.#wrapped.get(inner) ?? this.#wrap(inner, nodeId, true)).connection
  }

  /**
   * The node's `admit` as the connector hands it to the accept step: a circuit is admitted as the
   * application's connection (the one `delivered` gives), and the connection of an upgrade under way
   * skips admission (it replaces a connection the node holds, it adds none).
   */
  admission(admit: UnlConnectorOptions['admit'], method: ConnectMethod | undefined) {
    return (r: ConnectorAdmission): AdmissionRefusal | undefined => {
      if (r.answer && this.#upgrading.has(r.nodeId)) return undefined
      const connection = method === 'relay' ? this.#incoming(r.connection, r.nodeId) : r.connection
      return admit?.({ ...r, connection })
    }
  }

  /** What the connector delivers for an accepted connection (a circuit: the application's connection). */
  delivered(incoming: IncomingConnection, relay: string | undefined): IncomingConnection {
    if (relay === undefined || incoming.method !== 'relay') return incoming
    return { ...incoming, connection: this.#incoming(incoming.connection, incoming.nodeId), relay }
  }

  /** Serves each circuit a peer opens to us (with the node id it named and the relay) until `signal`. */
  listen(serve: (socket: Socket, nodeId: string, relay: string) => void, signal: AbortSignal): void {
    this.#relayer?.listen?.((c) => {
      this.#circuits.set(c.socket, c)
      serve(c.socket, c.nodeId, c.relay)
    }, signal)
  }

  #wrap(inner: LineSocket, nodeId: string, answer = false): RelayedLines {
    const circuit = this.#circuits.get(inner.socket)
    const end = circuit?.endReason
    const lines = new RelayedLines({
      circuit: inner,
      ...(this.#lineLimits !== undefined && { lineLimits: this.#lineLimits }),
      ...(end !== undefined && { endReason: end }),
      onUpgrade: (method) => {
        const { remoteAddress: host = '', remotePort: port = 0 } = lines.carrier
        this.#emit('upgrade', { connection: lines.connection, nodeId, method, host, port })
      },
    })
    this.#wrapped.set(inner, lines)
    if (answer) {
      const host = this.#host
      const expect: UpgradeHost['expect'] = (nonce, id, resolve, refuse) => {
        this.#upgrading.set(id, (this.#upgrading.get(id) ?? 0) + 1)
        const forget = host.expect(nonce, id, resolve, refuse)
        return () => {
          forget()
          const n = (this.#upgrading.get(id) ?? 1) - 1
          if (n === 0) this.#upgrading.delete(id)
          else this.#upgrading.set(id, n)
        }
      }
      lines.onControl = answerUpgrades(lines, nodeId, { ...host, expect })
    }
    return lines
  }
}
