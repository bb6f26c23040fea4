/**
 * `secureOutbound` / `secureInbound`: the mutual handshake on a connected socket, then a `SecureStream`.
 *
 *   dialler   ->   PYP2P-SECURE/2 AESGCM ChaChaPoly\r\n len | e   (its offer, then Noise XX message 1, 32 bytes)
 *   listener  <-   PYP2P-SECURE/2 AESGCM\r\n len | e, ee, s, es, payload   (its choice, message 2, 208 bytes)
 *   dialler   ->   len | s, se, payload                    (message 3, 160 bytes)
 *
 * `len` is 2 bytes big-endian and must be exactly the message's size. Each payload is the sender's
 * Ed25519 identity key and its signature of the sender's Noise static key (one static key per node,
 * made and signed once: static-key.ts). The dialler checks the listener's node id before it sends
 * message 3, so a wrong peer gets nothing of ours but key exchange. The prologue lines (prologue.ts:
 * the cipher offered and chosen, and the Noise prologue; a plain-line peer fails at them) leave with
 * each side's first message: one write and one read per message. Message 1 is the same bytes whatever
 * the cipher, so the dialler sends it before it knows the choice and builds its Noise state after.
 * A listener that fails before message 2 (a plain-line dialler's hello) still sends a prologue line,
 * so that dialler learns why.
 */

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { NodeIdentity } from '@pyp2p/identity'
import { isNodeId } from '@pyp2p/identity'
import createDebug from 'debug'
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  FAILED_PROLOGUE_LINGER,
  LENGTH_PREFIX,
  MESSAGE1_LENGTH,
  MESSAGE2_LENGTH,
  MESSAGE3_LENGTH,
} from './constants.js'
import { SecureError } from './errors.js'
import { HandshakeReader, type QueueParser } from './handshake-reader.js'
import { isCipherList, NOISE_CIPHERS, type NoiseCipher } from './noise/cipher-suite.js'
import { generateDhKeyPair } from './noise/dh.js'
import { HandshakeXX } from './noise/handshake-xx.js'
import { checkPayload, type RemoteIdentity } from './payload.js'
import { answerOffer, offerLine, REFUSAL_LINE, readAnswer, readPrologueLine } from './prologue.js'
import { SecureStream } from './secure-stream.js'
import { localStatic } from './static-key.js'

const log = createDebug('pyp2p:secure')
const EMPTY = Buffer.alloc(0)

export interface SecureOptions {
  /** This node's identity: its key authenticates the session. */
  identity: NodeIdentity
  signal?: AbortSignal
  /** Handshake timeout in ms; `ERR_HANDSHAKE_TIMEOUT` after it. Default 5,000. */
  timeout?: number
  /**
   * The Noise ciphers this end accepts, in its order of preference: a dialler offers them, a listener
   * picks its first that the dialler offered (`ERR_NO_COMMON_CIPHER` if none). Default
   * `['AESGCM', 'ChaChaPoly']` (AES-256-GCM is the faster where the CPU has AES instructions; put
   * `'ChaChaPoly'` first on one without, e.g. a Raspberry Pi 4). A dialler with `['ChaChaPoly']` speaks
   * version 1, which nodes of earlier builds (ChaChaPoly only) answer.
   */
  ciphers?: readonly NoiseCipher[]
}

export interface SecureOutboundOptions extends SecureOptions {
  /** The node id the dialler expects (from the UNL); another key fails with `ERR_PEER_ID_MISMATCH`. */
  expectedNodeId?: string
}

export interface SecureSession {
  /** The encrypted duplex: write bytes, read the peer's bytes. */
  stream: SecureStream
  /** The Noise cipher the two ends agreed on. */
  cipher: NoiseCipher
  remoteNodeId: string
  /** The peer's Ed25519 public key, base64url. */
  remotePublicKey: string
  /**
   * The peer's Noise static X25519 public key (32 bytes), which its identity key signed. One per node
   * and identity, so the same in every session with that node while it runs.
   */
  remoteStaticKey: Buffer
}

/** The dialler's side of the handshake. On failure the socket is destroyed and a `SecureError` thrown. */
export function secureOutbound(
  socket: Socket | Duplex,
  options: SecureOutboundOptions,
): Promise<SecureSession> {
  const { expectedNodeId } = options
  if (expectedNodeId !== undefined && !isNodeId(expectedNodeId)) {
    throw SecureError.INVALID_OPTION(
      'expectedNodeId',
      'a node id (40 lowercase hex characters)',
      expectedNodeId,
    )
  }
  return run(socket, true, options, checkCiphers(options.ciphers), expectedNodeId)
}

/** The listener's side of the handshake. On failure the socket is destroyed and a `SecureError` thrown. */
export function secureInbound(socket: Socket | Duplex, options: SecureOptions): Promise<SecureSession> {
  const ciphers = checkCiphers(options.ciphers)
  return run(socket, false, options, ciphers, undefined)
}

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(LENGTH_PREFIX)
  head.writeUInt16BE(message.length)
  return Buffer.concat([head, message])
}

/** A parser of one length-prefixed handshake message that must be exactly `length` bytes. */
function exactFrame(length: number): QueueParser<Buffer> {
  return (queue) => {
    if (queue.length < LENGTH_PREFIX) return undefined
    const announced = queue.peekUInt16BE()
    if (announced > length) throw SecureError.FRAME_TOO_LARGE(announced, length)
    if (announced < length)
      throw SecureError.HANDSHAKE_MALFORMED(`a ${announced}-byte message where ${length} belong`)
    if (queue.length < LENGTH_PREFIX + length) return undefined
    return queue.take(LENGTH_PREFIX + length).subarray(LENGTH_PREFIX)
  }
}

const prologueLine: QueueParser<string> = readPrologueLine

/** The `ciphers` option, checked (thrown synchronously, as the other option errors). */
function checkCiphers(ciphers: readonly NoiseCipher[] = NOISE_CIPHERS): readonly NoiseCipher[] {
  if (!isCipherList(ciphers)) {
    throw SecureError.INVALID_OPTION(
      'ciphers',
      `a non-empty list of distinct Noise ciphers (${NOISE_CIPHERS.join(', ')})`,
      JSON.stringify(ciphers),
    )
  }
  return ciphers
}

async function run(
  socket: Socket | Duplex,
  initiator: boolean,
  options: SecureOptions,
  ciphers: readonly NoiseCipher[],
  expectedNodeId: string | undefined,
): Promise<SecureSession> {
  const { identity, timeout = DEFAULT_HANDSHAKE_TIMEOUT } = options
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    throw SecureError.INVALID_OPTION('timeout', 'a positive integer (ms)', timeout)
  }
  const timer = new AbortController()
  const timeoutHandle = setTimeout(() => timer.abort(SecureError.HANDSHAKE_TIMEOUT(timeout)), timeout)
  const signal = timer.signal
  const onCallerAbort = (): void => timer.abort(SecureError.ABORTED(options.signal?.reason))
  options.signal?.addEventListener('abort', onCallerAbort, { once: true })
  if (options.signal?.aborted) onCallerAbort()
  const reader = new HandshakeReader(socket)
  // The dialler sends its prologue line at once; the listener with message 2, or on failure.
  let prologueSent = initiator
  try {
    // One static key per node, signed once (static-key.ts): a handshake makes only its ephemeral key.
    const { keyPair: staticKeyPair, payload, verified } = localStatic(identity)
    let noise: HandshakeXX
    let remote: RemoteIdentity
    if (initiator) {
      const offer = offerLine(ciphers)
      const ephemeralKeyPair = generateDhKeyPair()
      // Message 1 is `e` and an empty payload (no key yet), whatever the cipher.
      socket.write(Buffer.concat([offer, frame(ephemeralKeyPair.publicKey)]))
      const answer = await reader.wait(prologueLine, signal)
      const agreed = readAnswer(offer.toString('ascii', 0, offer.length - 2), answer, ciphers)
      noise = new HandshakeXX({
        initiator,
        staticKeyPair,
        ephemeralKeyPair,
        prologue: agreed.noisePrologue,
        cipher: agreed.cipher,
      })
      noise.writeMessage(EMPTY) // message 1 again, as sent, into the handshake state
      const message2 = await reader.wait(exactFrame(MESSAGE2_LENGTH), signal)
      remote = checkPayload(noise.readMessage(message2), noise.remoteStatic as Buffer, verified)
      if (expectedNodeId !== undefined && remote.nodeId !== expectedNodeId) {
        throw SecureError.PEER_ID_MISMATCH(expectedNodeId, remote.nodeId)
      }
      // Message 3 and what the caller writes first (its hello) leave in one writev: corked until
      // the immediate, after the promise callbacks that write it have run.
      socket.cork()
      setImmediate(() => socket.uncork())
      socket.write(frame(noise.writeMessage(payload)))
    } else {
      const { answer, agreement } = answerOffer(await reader.wait(prologueLine, signal), ciphers)
      noise = new HandshakeXX({
        initiator,
        staticKeyPair,
        prologue: agreement.noisePrologue,
        cipher: agreement.cipher,
      })
      const message1 = await reader.wait(exactFrame(MESSAGE1_LENGTH), signal)
      const empty = noise.readMessage(message1)
      if (empty.length !== 0) throw SecureError.HANDSHAKE_MALFORMED('message 1 carries a payload')
      // Our answer leaves with message 2, in one write the dialler reads at once (see the catch for
      // a peer that fails before).
      prologueSent = true
      socket.write(Buffer.concat([answer, frame(noise.writeMessage(payload))]))
      const message3 = await reader.wait(exactFrame(MESSAGE3_LENGTH), signal)
      remote = checkPayload(noise.readMessage(message3), noise.remoteStatic as Buffer, verified)
    }
    if (signal.aborted) throw signal.reason
    const transport = noise.split()
    const stream = new SecureStream(socket, {
      ...transport,
      head: reader.detach(),
      remoteNodeId: remote.nodeId,
      remotePublicKey: remote.publicKey,
    })
    log(
      '%s handshake done with %s (%s)',
      initiator ? 'outbound' : 'inbound',
      remote.nodeId,
      transport.send.cipher,
    )
    return {
      stream,
      cipher: transport.send.cipher,
      remoteNodeId: remote.nodeId,
      remotePublicKey: remote.publicKey,
      remoteStaticKey: noise.remoteStatic as Buffer,
    }
  } catch (err) {
    const error = err instanceof SecureError ? err : SecureError.HANDSHAKE_FAILED('unexpected error', err)
    log('%s handshake failed: %s', initiator ? 'outbound' : 'inbound', error.message)
    // A plain-line dialler (the original's nodes) learns why from a prologue line as its first line.
    if (!prologueSent && socket.writable) {
      // Ended, then destroyed once it is written (or after a bound): the prologue is not dropped.
      // Nothing more is read meanwhile (the reader's listeners stay, so an error is still handled).
      socket.pause()
      const linger = setTimeout(() => socket.destroy(), FAILED_PROLOGUE_LINGER)
      linger.unref()
      socket.end(REFUSAL_LINE, () => {
        clearTimeout(linger)
        socket.destroy()
      })
    } else socket.destroy()
    throw error
  } finally {
    clearTimeout(timeoutHandle)
    options.signal?.removeEventListener('abort', onCallerAbort)
  }
}
