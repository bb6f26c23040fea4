/**
 * The extension words of `HELLO` that have fields (`nonce=`, `server=`, `lifetime=`, `proofs=connection`),
 * read and written in one place for the parser and the formatter. Any other word stays in `extensions`
 * (a v1 client ignores words it does not know).
 */
import {
  HELLO_CONNECTION_PROOFS_WORD,
  HELLO_LIFETIME_PREFIX,
  HELLO_NONCE_PREFIX,
  HELLO_SERVER_PREFIX,
  MAX_HELLO_LIFETIME_SECONDS,
} from './constants.js'
import type { RendezvousProtocolError } from './errors.js'
import { isExtension, isNonce, isServerId, parseDecimal } from './fields.js'
import type { HelloMessage } from './messages.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Reads the words after `HELLO PYP2P/<v> <ip> <port>` into `hello`. A malformed or repeated word that
 * has a field throws `bad(...)` (`ERR_MALFORMED`); the others are kept in `extensions`.
 */
export function readHelloWords(
  words: readonly string[],
  base: Omit<HelloMessage, 'extensions'>,
  bad: (why: string) => RendezvousProtocolError,
): HelloMessage {
  const extensions: string[] = []
  const hello: Mutable<HelloMessage> = { ...base, extensions }
  for (const word of words) {
    if (!isExtension(word)) throw bad('extensions must be printable ASCII words')
    if (word.startsWith(HELLO_NONCE_PREFIX)) {
      const nonce = word.slice(HELLO_NONCE_PREFIX.length)
      if (!isNonce(nonce) || hello.nonce !== undefined) throw bad('one nonce= of 16..64 [A-Za-z0-9_-]')
      hello.nonce = nonce
    } else if (word.startsWith(HELLO_SERVER_PREFIX)) {
      const serverId = word.slice(HELLO_SERVER_PREFIX.length)
      if (!isServerId(serverId) || hello.serverId !== undefined) {
        throw bad('one server= of 1..64 [A-Za-z0-9_.:-]')
      }
      hello.serverId = serverId
    } else if (word.startsWith(HELLO_LIFETIME_PREFIX)) {
      const seconds = parseDecimal(word.slice(HELLO_LIFETIME_PREFIX.length), 1, MAX_HELLO_LIFETIME_SECONDS)
      if (seconds === undefined || hello.lifetimeSeconds !== undefined) {
        throw bad(`one lifetime= of 1..${MAX_HELLO_LIFETIME_SECONDS} seconds`)
      }
      hello.lifetimeSeconds = seconds
    } else if (word === HELLO_CONNECTION_PROOFS_WORD) {
      if (hello.connectionProofs !== undefined) throw bad(`one ${HELLO_CONNECTION_PROOFS_WORD}`)
      hello.connectionProofs = true
    } else {
      extensions.push(word)
    }
  }
  return hello
}

/** Whether `word` belongs in a field of `HelloMessage`, not in its `extensions`. */
export function isHelloField(word: string): boolean {
  return (
    word.startsWith(HELLO_NONCE_PREFIX) ||
    word.startsWith(HELLO_SERVER_PREFIX) ||
    word.startsWith(HELLO_LIFETIME_PREFIX) ||
    word === HELLO_CONNECTION_PROOFS_WORD
  )
}

/**
 * The words of `msg`'s fields, in the order servers here send them (`nonce= server= lifetime=
 * proofs=connection`), or a reason the formatter must refuse.
 */
export function helloFieldWords(msg: HelloMessage): string[] | string {
  const words: string[] = []
  if (msg.nonce !== undefined) {
    if (!isNonce(msg.nonce)) return 'nonce must be 16..64 of [A-Za-z0-9_-]'
    words.push(`${HELLO_NONCE_PREFIX}${msg.nonce}`)
  }
  if (msg.serverId !== undefined) {
    if (!isServerId(msg.serverId)) return 'serverId must be 1..64 of [A-Za-z0-9_.:-]'
    words.push(`${HELLO_SERVER_PREFIX}${msg.serverId}`)
  }
  if (msg.lifetimeSeconds !== undefined) {
    const s = msg.lifetimeSeconds
    if (!Number.isInteger(s) || s < 1 || s > MAX_HELLO_LIFETIME_SECONDS) {
      return `lifetimeSeconds must be an integer 1..${MAX_HELLO_LIFETIME_SECONDS}`
    }
    words.push(`${HELLO_LIFETIME_PREFIX}${s}`)
  }
  if (msg.connectionProofs !== undefined) {
    if (msg.connectionProofs !== true) return 'connectionProofs must be true or absent'
    words.push(HELLO_CONNECTION_PROOFS_WORD)
  }
  return words
}
