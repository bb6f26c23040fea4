/**
 * The client's two raw exchanges with a relay, each on a fresh TCP connection that becomes one end of
 * a circuit: the dialler's `CONNECT` (`dialCircuit`) and the target's `ACCEPT` (`acceptCircuit`). Each
 * resolves with the bare socket right after the relay's `OK` line, nothing of the circuit read yet (a
 * byte that came with the `OK` is put back), so an end-to-end handshake can run over it.
 */
import type { Socket } from 'node:net'
import { anySignal, connectSocket, LineDecoder } from '@pyp2p/framing'
import { DIAL_TIMEOUT_MS, MAX_CONTROL_LINE } from './constants.js'
import { CircuitError } from './errors.js'
import { type CircuitLimits, formatAccept, formatConnect, parseServerLine } from './protocol.js'

export interface RelayAddress {
  host: string
  port: number
}

/** One end of a circuit, right after `OK`. */
export interface RelayedSocket {
  socket: Socket
  circuitId: string
  /** The relay's limits for this circuit (bytes per direction, lifetime). */
  limits: CircuitLimits
  relay: RelayAddress
  /** `socket.bytesRead`/`bytesWritten` at `OK`: what the circuit carried is counted from there. */
  offset: { read: number; written: number }
}

export interface DialCircuitOptions extends RelayAddress {
  /** The reserved node to reach. */
  target: string
  /** Our node id (told to the target; the end-to-end handshake proves it). */
  nodeId: string
  signal?: AbortSignal
  /** The dial and the relay's answer (which waits for the target's ACCEPT), ms. Default DIAL_TIMEOUT_MS. */
  timeout?: number
}

/** `CONNECT`: a circuit to `target`; rejects with the relay's typed refusal or ERR_CONNECT_FAILED. */
export function dialCircuit(o: DialCircuitOptions): Promise<RelayedSocket> {
  return exchange(o, formatConnect(o.target, o.nodeId), o.signal, o.timeout)
}

/** `ACCEPT`: the target's end of circuit `circuitId` (told by `INCOMING` on its reservation). */
export function acceptCircuit(
  relay: RelayAddress,
  circuitId: string,
  o: { signal?: AbortSignal; timeout?: number } = {},
): Promise<RelayedSocket> {
  return exchange(relay, formatAccept(circuitId), o.signal, o.timeout)
}

async function exchange(
  relay: RelayAddress,
  line: string,
  callerSignal: AbortSignal | undefined,
  timeout = DIAL_TIMEOUT_MS,
): Promise<RelayedSocket> {
  const signals = [AbortSignal.timeout(timeout)]
  if (callerSignal !== undefined) signals.push(callerSignal)
  const signal = anySignal(...signals)
  const { host, port } = relay
  let socket: Socket
  try {
    socket = await connectSocket({ host, port, signal, timeout })
  } catch (err) {
    if (callerSignal?.aborted) throw CircuitError.ABORTED(callerSignal.reason)
    throw CircuitError.CONNECT_FAILED(host, port, err)
  }
  // Errors end in 'close', which is what every user of the socket watches.
  socket.on('error', noop)
  socket.write(`${line}\r\n`)
  return new Promise<RelayedSocket>((resolve, reject) => {
    const decoder = new LineDecoder({ maxLineLength: MAX_CONTROL_LINE })
    const fail = (e: CircuitError): void => {
      done()
      socket.destroy()
      reject(e)
    }
    const onAbort = (): void =>
      fail(
        callerSignal?.aborted
          ? CircuitError.ABORTED(callerSignal.reason)
          : CircuitError.TIMEOUT('the relay', timeout),
      )
    const onClose = (): void => fail(CircuitError.RELAY_CLOSED('the connection before OK'))
    const onData = (chunk: Buffer): void => {
      let consumed = 0
      let answer: ReturnType<typeof parseServerLine> | undefined
      try {
        // Lines end at '\n': find where the OK line ends so the rest of the chunk is put back.
        let start = 0
        while (answer === undefined) {
          const nl = chunk.indexOf(10, start)
          const part = nl === -1 ? chunk.subarray(start) : chunk.subarray(start, nl + 1)
          decoder.write(part, (l) => {
            const m = parseServerLine(l)
            if (m.type !== 'HELLO') answer = m
          })
          if (nl === -1) break
          start = nl + 1
        }
        consumed = start
      } catch (err) {
        fail(err instanceof CircuitError ? err : CircuitError.PROTOCOL((err as Error).message))
        return
      }
      if (answer === undefined) return
      if (answer.type !== 'OK') {
        fail(
          answer.type === 'ERROR' ? answer.error : CircuitError.PROTOCOL(`expected OK, got ${answer.type}`),
        )
        return
      }
      done()
      socket.pause()
      if (consumed < chunk.length) socket.unshift(chunk.subarray(consumed))
      const rest = chunk.length - consumed
      resolve({
        socket,
        circuitId: answer.circuitId,
        limits: { maxBytes: answer.maxBytes, maxDurationMs: answer.maxDurationMs },
        relay: { host, port },
        offset: { read: socket.bytesRead - rest, written: socket.bytesWritten },
      })
    }
    const done = (): void => {
      socket.off('data', onData)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    socket.on('data', onData)
    socket.on('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function noop(): void {}
