/**
 * Decides whether to act on a reverse-connect request, and where to dial. The original dialled
 * whatever UNL a message carried; here a request is only acted on when the relay-authenticated sender
 * owns the UNL, the UNL's WAN address is where the request came from, the target is not us, it is not
 * a replay, and the sender is within its rate limit.
 */
import { isIP } from 'node:net'
import type { TransportMessage } from '@pyp2p/dht-msg'
import { canonicalAddress } from './address.js'
import { parseReverseRequest } from './connect-hello.js'
import {
  REVERSE_NONCE_MEMORY_MS,
  REVERSE_PER_SENDER,
  REVERSE_REFUSALS_PER_SENDER,
  REVERSE_TOTAL,
  REVERSE_WINDOW_MS,
} from './constants.js'
import { UnlError } from './errors.js'
import { isSameNode, type UNL } from './unl.js'

export interface ReverseLimits {
  /** Requests acted on per sender per window. Default REVERSE_PER_SENDER. */
  perSender?: number
  /** Requests acted on in total per window. Default REVERSE_TOTAL. */
  total?: number
  /** The window, ms. Default REVERSE_WINDOW_MS. */
  window?: number
  /**
   * Require the UNL's WAN address to be the address the transport saw the request come from (when the
   * transport reports one). Default true; turn off only when the relay sits behind a proxy.
   */
  requireObservedAddress?: boolean
}

export interface ReverseTarget {
  unl: UNL
  nonce: string
  host: string
  port: number
}

export class ReverseGuard {
  readonly #perSender: number
  readonly #total: number
  readonly #window: number
  readonly #requireObserved: boolean
  readonly #nonces = new Map<string, number>()
  #windowStart = 0
  #count = 0
  readonly #senders = new Map<string, number>()
  readonly #refusals = new Map<string, number>()

  constructor(limits: ReverseLimits = {}) {
    this.#perSender = limits.perSender ?? REVERSE_PER_SENDER
    this.#total = limits.total ?? REVERSE_TOTAL
    this.#window = limits.window ?? REVERSE_WINDOW_MS
    this.#requireObserved = limits.requireObservedAddress ?? true
  }

  /**
   * Where to dial for this request; throws UnlError ERR_INVALID_REVERSE_REQUEST saying why not.
   * Returns undefined for a repeat of a request already acted on (the original repeated requests).
   */
  check(m: TransportMessage, ours: UNL, now: number): ReverseTarget | undefined {
    const { unl, nonce } = parseReverseRequest(m.message)
    if (!unl.hasNodeId || unl.nodeId !== m.from) {
      throw UnlError.INVALID_REVERSE_REQUEST('the node id in the UNL is not the authenticated sender')
    }
    if (m.from === ours.nodeId || isSameNode(unl, ours)) {
      throw UnlError.INVALID_REVERSE_REQUEST('the request is from this node itself')
    }
    if (unl.port === 0) throw UnlError.INVALID_REVERSE_REQUEST('the UNL has no listening port')
    const observed = m.fromAddress === undefined ? undefined : canonicalAddress(m.fromAddress)
    if (this.#requireObserved && observed !== undefined && observed !== unl.wanAddress) {
      throw UnlError.INVALID_REVERSE_REQUEST(
        `the UNL's WAN address ${unl.wanAddress || '(none)'} is not where the request came from (${observed})`,
      )
    }
    const sameLan = unl.wanAddress !== '' && unl.wanAddress === ours.wanAddress
    const host = sameLan ? unl.lanAddress : unl.wanAddress
    const port = sameLan ? unl.port : unl.publicPort
    if (host === '') throw UnlError.INVALID_REVERSE_REQUEST('the UNL has no address to dial')
    if (!dialable(host, ours)) throw UnlError.INVALID_REVERSE_REQUEST(`refusing to dial ${host}`)
    if (
      (host === ours.lanAddress && port === ours.port) ||
      (host === ours.wanAddress && port === ours.publicPort)
    ) {
      throw UnlError.INVALID_REVERSE_REQUEST('the target is this node itself')
    }
    this.#forgetOld(now)
    if (this.#nonces.has(nonce)) return undefined
    if (this.#count >= this.#total) throw UnlError.REVERSE_RATE_LIMITED('total')
    const fromSender = this.#senders.get(m.from) ?? 0
    if (fromSender >= this.#perSender) throw UnlError.REVERSE_RATE_LIMITED('sender')
    this.#senders.set(m.from, fromSender + 1)
    this.#count += 1
    this.#nonces.set(nonce, now + REVERSE_NONCE_MEMORY_MS)
    return { unl, nonce, host, port }
  }

  /**
   * Whether to tell `from` that its request was refused (`REVERSE_REFUSED` through the transport): at
   * most REVERSE_REFUSALS_PER_SENDER answers per sender per window, so a flood of requests is not
   * answered by a flood of relay messages.
   */
  answerRefusal(from: string, now: number): boolean {
    this.#forgetOld(now)
    const sent = this.#refusals.get(from) ?? 0
    if (sent >= REVERSE_REFUSALS_PER_SENDER) return false
    this.#refusals.set(from, sent + 1)
    return true
  }

  #forgetOld(now: number): void {
    if (now - this.#windowStart >= this.#window) {
      this.#windowStart = now
      this.#count = 0
      this.#senders.clear()
      this.#refusals.clear()
    }
    for (const [nonce, until] of this.#nonces) if (until <= now) this.#nonces.delete(nonce)
  }
}

/**
 * Never dial unspecified, multicast or broadcast addresses; dial loopback only when we ourselves are on
 * loopback (a test or single-host setup), so a request can't aim us at our own local services.
 */
function dialable(host: string, ours: UNL): boolean {
  const v = isIP(host)
  if (v === 4) {
    const [a, , , d] = host.split('.').map(Number) as [number, number, number, number]
    if (a === 0 || a >= 224 || (a === 255 && d === 255)) return false
    if (a === 127) return ours.wanAddress.startsWith('127.')
    return true
  }
  if (v === 6) {
    if (host === '::' || host.startsWith('ff')) return false
    if (host === '::1') return ours.wanAddress === '::1'
    return true
  }
  return false
}
