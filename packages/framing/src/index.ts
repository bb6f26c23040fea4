/**
 * @packageDocumentation
 * Newline-delimited text messages over TCP: the original pyp2p `Sock`. `sendLine()` writes a line and
 * `\r\n`; the receiver gets whole lines (split on `\n`, `\r\n` accepted), in order, UTF-8 decoded, with
 * limits on line length, unsent data and unread lines.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:net'
 * import { connectLine, LineSocket } from '@pyp2p/framing'
 *
 * const server = createServer((socket) => {
 *   const con = new LineSocket(socket)
 *   con.on('line', (line) => con.sendLine(`ECHO ${line}`))
 * }).listen(0, '127.0.0.1')
 * await new Promise((resolve) => server.once('listening', resolve))
 * const { port } = server.address() as { port: number }
 *
 * const con = await connectLine({ host: '127.0.0.1', port, timeout: 2000 })
 * con.sendLine('hello')
 * console.log(await con.readLine({ timeout: 2000 })) // ECHO hello
 * con.close()
 * server.close()
 * ```
 */

export { anySignal } from './any-signal.js'
export type { CloseInfo, CloseReason } from './close-info.js'
export { type ConnectLineOptions, type ConnectSocketOptions, connectLine, connectSocket } from './connect.js'
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_KEEPALIVE_INITIAL_DELAY,
  DEFAULT_MAX_LINE_LENGTH,
  DEFAULT_MAX_QUEUED_CHARS,
  DEFAULT_MAX_QUEUED_LINES,
  DEFAULT_MAX_SEND_BUFFER,
  LINE_DELIMITER,
} from './constants.js'
export { FramingError, type FramingErrorCode } from './errors.js'
export { Heartbeat, type HeartbeatHooks, type HeartbeatOptions } from './heartbeat.js'
export { LineDecoder, type LineDecoderOptions } from './line-decoder.js'
export { LineSocket, type LineSocketEvents } from './line-socket.js'
export type { LineLimits, LineSocketOptions, ReadLineOptions } from './options.js'
export { plainAddress } from './plain-address.js'
