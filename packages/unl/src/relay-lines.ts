/**
 * The application's line stream on a relayed connection: a `LineSocket` over a stream of ours that
 * carries its lines over a carrier connection (first the circuit, past upgrade.ts), can move them to
 * another carrier (a direct or punched connection, relay-upgrade.ts) without losing, repeating or
 * reordering a line, and says why the circuit ended when the relay ended it.
 *
 * Wire, inside the carrier's secure stream (the relay cannot read or forge it): every line has a
 * one-character tag, so no application line can be taken for a control line:
 * - `.` + text: an application line (any text, `!SWITCH` included, is data here);
 * - `!` + word [args]: a control line, never shown to the application. `!SWITCH` is the last line a
 *   side sends on the circuit (its next lines come on the new connection); `!BYE` says the side is
 *   closing (a circuit that ends without it was ended by the relay); the upgrade's own words
 *   (`UPGRADE`, `UNL`, `NO`, `FAIL`) go to `onControl`. Unknown words are ignored (newer peers).
 * The receiver delivers the circuit's lines up to the peer's `!SWITCH`, then the new connection's
 * (read only from then on: until then they wait, bounded, in its LineSocket's queue).
 */
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { type CloseInfo, FramingError, type LineLimits, type LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import { CarrierLineSocket } from './carrier-line-socket.js'
import { RELAY_CONTROL_TAG, RELAY_DATA_TAG } from './constants.js'
import type { ConnectMethod } from './errors.js'
import { UnlError } from './errors.js'
import { LineSplitter, type WriteChunk } from './line-splitter.js'

const log = createDebug('pyp2p:unl:relay')

/** Received application lines are pushed to the bridge in batches of up to this many characters. */
const PUSH_BATCH = 16_384

export interface RelayedLinesOptions {
  /** The circuit, past upgrade.ts. */
  circuit: LineSocket
  /** Limits of the application's LineSocket (its longest line is one less: the tag). */
  lineLimits?: LineLimits
  /** Why the relay ended the circuit (a limit), asked when it ends without the peer's `!BYE`. */
  endReason?: () => Error | undefined
  /** The switch is complete both ways (the circuit is then closed). */
  onUpgrade?: (method: ConnectMethod) => void
}

export class RelayedLines {
  /** What the application reads and writes. */
  readonly connection: LineSocket
  /** Where the upgrade's control lines (`UPGRADE`, `UNL`, `NO`, `FAIL`) go. */
  onControl: ((word: string, args: string) => void) | undefined
  /** Set while an upgrade is under way (or done): a peer's `!SWITCH` at any other time is a fault. */
  expectingSwitch = false
  readonly #bridge: Duplex
  readonly #circuit: LineSocket
  readonly #o: RelayedLinesOptions
  readonly #split = new LineSplitter()
  /** Application lines received and not yet pushed to the bridge (each with its `\r\n`). */
  #pending = ''
  #flushQueued = false
  #sendOn: LineSocket
  #readFrom: LineSocket | undefined
  #next: LineSocket | undefined
  #nextMethod: ConnectMethod | undefined
  #peerMethod: ConnectMethod | undefined
  #paused = false
  #sentSwitch = false
  #gotSwitch = false
  #bye = false
  #upgraded: ConnectMethod | undefined
  readonly #closed = new Map<LineSocket, CloseInfo>()

  constructor(o: RelayedLinesOptions) {
    this.#o = o
    this.#circuit = o.circuit
    this.#sendOn = o.circuit
    this.#bridge = new Duplex({
      decodeStrings: false,
      read: () => this.#resume(),
      write: (chunk: Buffer | string, encoding, cb) => this.#write([{ chunk, encoding }], cb),
      writev: (chunks, cb) => this.#write(chunks, cb),
      final: (cb) => {
        this.#control('BYE')
        this.#closeCarriers()
        cb()
      },
      destroy: (err, cb) => {
        this.#closeCarriers()
        cb(err)
      },
    })
    const limits = o.lineLimits ?? {}
    const max = limits.maxLineLength
    this.connection = new CarrierLineSocket(
      o.circuit.socket as Socket,
      {
        ...limits,
        ...(max !== undefined && { maxLineLength: Math.max(0, max - 1) }),
        stream: this.#bridge,
      },
      () => this.carrier,
    )
    this.#watch(o.circuit)
    this.#read(o.circuit)
  }

  /** The method carrying the lines now: `relay` until an upgrade completed. */
  get method(): ConnectMethod {
    return this.#upgraded ?? 'relay'
  }

  /** The carrier the lines travel on now (the circuit, or the connection it moved to). */
  get carrier(): LineSocket {
    return this.#upgraded === undefined ? this.#circuit : (this.#next ?? this.#circuit)
  }

  /** Sends a control line on the circuit (the upgrade's words), unless it is closed or retired. */
  control(word: string, args = ''): void {
    if (!this.#sentSwitch) this.#control(word, args)
  }

  /** The upgrade failed on the peer's side after we switched: the stream cannot be trusted. */
  fail(error: Error): void {
    this.#flush()
    this.#bridge.destroy(error)
  }

  /**
   * Moves our sending to `next` (after `!SWITCH <method>` on the circuit), and reads it after the
   * peer's `!SWITCH`. `method` is what made `next` (`direct`, `punch`...), or undefined on the side
   * that did not make it (it reports the method the peer's `!SWITCH` names).
   */
  switchTo(next: LineSocket, method: ConnectMethod | undefined): void {
    if (this.#sentSwitch || !this.connection.isOpen) {
      next.close()
      return
    }
    this.#next = next
    this.#nextMethod = method
    this.#watch(next)
    this.#control('SWITCH', method ?? '')
    this.#sentSwitch = true
    this.#sendOn = next
    if (this.#gotSwitch) this.#read(next)
    this.#settle()
  }

  #control(word: string, args = ''): void {
    const on = this.#sentSwitch ? this.#next : this.#circuit
    if (on?.isOpen !== true) return
    try {
      on.sendLine(`${RELAY_CONTROL_TAG}${word}${args === '' ? '' : ` ${args}`}`)
    } catch (err) {
      log('control %s not sent: %s', word, (err as Error).message)
    }
  }

  // The application's writes of one tick (its LineSocket corks us), tagged and sent in one write.
  #write(chunks: readonly WriteChunk[], cb: (err?: Error | null) => void): void {
    let ok: boolean
    try {
      ok = this.#sendOn.sendLines(this.#split.lines(chunks, RELAY_DATA_TAG))
    } catch (err) {
      cb(err as Error)
      return
    }
    if (ok) cb()
    else this.#sendOn.drain().then(() => cb(), cb)
  }

  #onLine = (line: string): void => {
    this.#handle(line)
    const from = this.#readFrom
    if (from !== undefined && this.#closed.has(from)) this.#ended(from) // its last queued line?
  }

  #handle(line: string): void {
    const tag = line.charAt(0)
    if (tag === RELAY_DATA_TAG) {
      // Pushed a batch at a time (at the end of the tick, or when it is big): one read per batch.
      this.#pending += `${line.slice(1)}\r\n`
      if (this.#pending.length >= PUSH_BATCH) this.#flush()
      else if (!this.#flushQueued) {
        this.#flushQueued = true
        process.nextTick(this.#flush)
      }
      return
    }
    this.#flush()
    if (tag !== RELAY_CONTROL_TAG) {
      this.#bridge.destroy(UnlError.INVALID_RELAY_LINE(`a line tagged ${JSON.stringify(tag)}`))
      return
    }
    const space = line.indexOf(' ')
    const word = space === -1 ? line.slice(1) : line.slice(1, space)
    const args = space === -1 ? '' : line.slice(space + 1)
    if (word === 'BYE') this.#bye = true
    else if (word === 'SWITCH') this.#onSwitch(args)
    else this.onControl?.(word, args)
  }

  /** Whether the peer sent its `!SWITCH` (its next lines come on the new connection). */
  get peerSwitched(): boolean {
    return this.#gotSwitch
  }

  #onSwitch(method: string): void {
    if (this.#readFrom !== this.#circuit || this.#gotSwitch || !this.expectingSwitch) {
      this.#bridge.destroy(UnlError.UPGRADE_BROKEN('a switch with no upgrade under way, or twice'))
      return
    }
    this.#gotSwitch = true
    this.#peerMethod = method === 'direct' || method === 'punch' || method === 'lan' ? method : undefined
    this.#circuit.off('line', this.#onLine)
    this.#readFrom = undefined
    if (this.#next !== undefined) this.#read(this.#next)
    this.#settle()
  }

  // Both sides switched: nothing more travels on the circuit.
  #settle(): void {
    if (!this.#sentSwitch || !this.#gotSwitch || this.#upgraded !== undefined) return
    this.#upgraded = this.#nextMethod ?? this.#peerMethod ?? 'direct'
    log('relayed connection moved to %s', this.#upgraded)
    this.#circuit.close()
    this.#o.onUpgrade?.(this.#upgraded)
  }

  #flush = (): void => {
    this.#flushQueued = false
    const text = this.#pending
    if (text === '' || this.#bridge.destroyed) return
    this.#pending = ''
    if (!this.#bridge.push(text)) this.#pause()
  }

  #read(from: LineSocket): void {
    this.#readFrom = from
    if (!this.#paused) from.on('line', this.#onLine)
    this.#ended(from) // closed with nothing left to read
  }

  #pause(): void {
    this.#paused = true
    this.#readFrom?.off('line', this.#onLine)
  }

  #resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#readFrom?.on('line', this.#onLine)
  }

  #watch(carrier: LineSocket): void {
    carrier.once('close', (info) => {
      this.#closed.set(carrier, info)
      this.#ended(carrier)
    })
  }

  // A carrier that closed ends the application's connection once every line it still holds was read
  // (its queue, while we were paused or not reading it yet): plainly after the peer's `!BYE`, else
  // with why. The circuit, once the peer switched away from it, has nothing more to say.
  #ended(carrier: LineSocket): void {
    const info = this.#closed.get(carrier)
    if (info === undefined || this.#bridge.destroyed) return
    if (carrier === this.#circuit && (this.#upgraded !== undefined || this.#gotSwitch)) return
    const unread =
      carrier === this.#readFrom ? carrier.queuedLines > 0 : carrier === this.#next && !this.#gotSwitch
    if (unread) return
    this.#flush()
    if (this.#bye) {
      this.#bridge.push(null)
      return
    }
    const limit = carrier === this.#circuit ? this.#o.endReason?.() : undefined
    const error =
      limit ??
      (carrier === this.#circuit
        ? UnlError.CIRCUIT_ENDED(info.error)
        : (info.error ?? FramingError.CONNECTION_CLOSED()))
    this.#bridge.destroy(error)
  }

  #closeCarriers(): void {
    this.#circuit.close()
    this.#next?.close()
  }
}
