import type { Duplex } from 'node:stream'
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_KEEPALIVE_INITIAL_DELAY,
  DEFAULT_MAX_LINE_LENGTH,
  DEFAULT_MAX_QUEUED_CHARS,
  DEFAULT_MAX_QUEUED_LINES,
  DEFAULT_MAX_SEND_BUFFER,
} from './constants.js'
import type { HeartbeatOptions } from './heartbeat.js'

/** Limits and socket settings; every one has a safe default (see `constants.ts`). */
export interface LineLimits {
  /** Longest line, in bytes without the delimiter, received or sent. Default 1 MiB. */
  maxLineLength?: number
  /** Most unsent bytes held before the connection fails with `ERR_SEND_BUFFER_FULL`. Default 8 MiB. */
  maxSendBuffer?: number
  /** Queued unread lines at which the socket is paused (resumed at half). Default 1,024. */
  maxQueuedLines?: number
  /** Total length of queued unread lines at which the socket is paused. Default 4 Mi code units. */
  maxQueuedChars?: number
  /** TCP keep-alive. Default `true`. */
  keepAlive?: boolean
  /** Idle time before the first keep-alive probe, in ms. Default 5,000 (the original's value). */
  keepAliveInitialDelay?: number
  /** Disable Nagle's algorithm so each line leaves at once. Default `true`. */
  noDelay?: boolean
  /** How long `close()` lets queued output drain before destroying the socket, in ms. Default 5,000. */
  closeTimeout?: number
}

export interface LineSocketOptions extends LineLimits {
  /** Bytes already read from the socket that belong to the line stream (e.g. after a raw 64-byte nonce). */
  head?: Uint8Array
  /**
   * Carry the lines over this stream instead of the socket's own bytes: an encrypted session running
   * on `socket` (`@pyp2p/secure`). The socket still gives the addresses and keep-alive; closing the
   * LineSocket ends and destroys the stream (which owns the socket).
   */
  stream?: Duplex
  /**
   * An application-level keep-alive both ends speak (see `Heartbeat`): ping after `interval` ms of
   * silence, fail with `ERR_KEEPALIVE_TIMEOUT` when nothing arrives `timeout` ms later. Default off
   * (a peer that does not know the ping line would receive it as a line).
   */
  heartbeat?: HeartbeatOptions
}

export interface ReadLineOptions {
  signal?: AbortSignal
  /** Reject with `ERR_READ_TIMEOUT` when no line arrives within this many ms. */
  timeout?: number
}

/** Throws a `RangeError` unless `value` is a safe integer >= `min`; returns it. */
export function checkInt(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`)
  }
  return value
}

/** Every limit with its default applied and checked. */
export function resolveLimits(options: LineLimits): Required<LineLimits> {
  return {
    maxLineLength: checkInt('maxLineLength', options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH, 0),
    maxSendBuffer: checkInt('maxSendBuffer', options.maxSendBuffer ?? DEFAULT_MAX_SEND_BUFFER, 1),
    maxQueuedLines: checkInt('maxQueuedLines', options.maxQueuedLines ?? DEFAULT_MAX_QUEUED_LINES, 1),
    maxQueuedChars: checkInt('maxQueuedChars', options.maxQueuedChars ?? DEFAULT_MAX_QUEUED_CHARS, 1),
    keepAlive: options.keepAlive ?? true,
    keepAliveInitialDelay: checkInt(
      'keepAliveInitialDelay',
      options.keepAliveInitialDelay ?? DEFAULT_KEEPALIVE_INITIAL_DELAY,
      0,
    ),
    noDelay: options.noDelay ?? true,
    closeTimeout: checkInt('closeTimeout', options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0),
  }
}
