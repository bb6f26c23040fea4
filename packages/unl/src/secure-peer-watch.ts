/**
 * The plain-line dialler's side of "mixing secure and plain fails fast": a plain peer (the original's
 * nodes) sends nothing first, so the dialler cannot wait for it; but a secure peer sends its prologue
 * (`PYP2P-SECURE/1`) at once. Watching the first bytes, the connection is destroyed with
 * `ERR_SECURE_PEER` as soon as they are that prologue, instead of failing later on garbage.
 */
import type { Socket } from 'node:net'
import { SECURE_PROLOGUE_LINE } from '@pyp2p/secure'
import { UnlError } from './errors.js'

const PREFIX = `${SECURE_PROLOGUE_LINE.split('/')[0]}/`

/** Watches `socket`'s first bytes (before any line reader sees them) until they can't be a prologue. */
export function watchForSecurePeer(socket: Socket): void {
  let head = ''
  const onData = (chunk: Buffer | string): void => {
    head += typeof chunk === 'string' ? chunk : chunk.toString('latin1')
    const n = Math.min(head.length, PREFIX.length)
    if (head.slice(0, n) !== PREFIX.slice(0, n)) {
      socket.off('data', onData)
      return
    }
    if (head.length < PREFIX.length) return
    socket.off('data', onData)
    socket.destroy(UnlError.SECURE_PEER(head.split(/\r?\n/)[0] ?? head))
  }
  socket.prependListener('data', onData)
}
