import { IdentityError, verifyChallenge } from '@pyp2p/identity'
import { LimitsError, manualClock } from '@pyp2p/limits'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AUTH_BURST,
  IP_BURST,
  isNodeId,
  NodeIdentity,
  parseClientLine,
  parseServerLine,
  RelayError,
  SENDER_BURST,
} from '../src/index.js'
import { MemoryMessageStore } from '../src/message-store.js'
import { RelayRateLimits } from '../src/relay-rate-limits.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)

describe('NodeIdentity', () => {
  it('derives a 20-byte node id and round-trips its secret', () => {
    const id = NodeIdentity.generate()
    expect(isNodeId(id.nodeId)).toBe(true)
    const again = NodeIdentity.fromSecret(id.secret)
    expect(again.nodeId).toBe(id.nodeId)
    expect(again.publicKey).toBe(id.publicKey)
  })

  it('verifies only the right key, id and challenge', () => {
    const id = NodeIdentity.generate()
    const other = NodeIdentity.generate()
    const sig = id.signChallenge('abc')
    expect(verifyChallenge(id.nodeId, 'abc', id.publicKey, sig)).toBe(true)
    expect(verifyChallenge(id.nodeId, 'abd', id.publicKey, sig)).toBe(false)
    expect(verifyChallenge(other.nodeId, 'abc', id.publicKey, sig)).toBe(false)
    expect(verifyChallenge(id.nodeId, 'abc', id.publicKey, other.signChallenge('abc'))).toBe(false)
    expect(verifyChallenge(id.nodeId, 'abc', other.publicKey, other.signChallenge('abc'))).toBe(false)
    expect(verifyChallenge(id.nodeId, 'abc', 'x', 'y')).toBe(false)
  })

  it('refuses a malformed secret with a typed error', () => {
    expect(() => NodeIdentity.fromSecret('short')).toThrow(IdentityError)
  })
})

describe('protocol parsers', () => {
  it('parses each client command', () => {
    expect(parseClientLine(`SEND m1 ${B} aGk`)).toEqual({ type: 'SEND', id: 'm1', to: B, payload: 'aGk' })
    expect(parseClientLine(`ACK ${A} m1`)).toEqual({ type: 'ACK', from: A, id: 'm1' })
    expect(parseClientLine('PING t')).toEqual({ type: 'PING', token: 't' })
    expect(parseClientLine('QUIT')).toEqual({ type: 'QUIT' })
  })

  it('names what is wrong with a bad client line', () => {
    expect(() => parseClientLine('SEND m1 xyz aGk')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_NODE_ID' }),
    )
    expect(() => parseClientLine(`SEND m1 ${B} a`)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }),
    )
    expect(() => parseClientLine('HELLO')).toThrow(expect.objectContaining({ code: 'ERR_BAD_LINE' }))
  })

  it('parses server lines', () => {
    expect(parseServerLine(`MSG ${A} m1 ::1 aGk`)).toEqual({
      type: 'MSG',
      from: A,
      id: 'm1',
      fromAddress: '::1',
      payload: 'aGk',
    })
    expect(parseServerLine('FAIL m1 ERR_QUEUE_FULL the queue is full')).toEqual({
      type: 'FAIL',
      id: 'm1',
      code: 'ERR_QUEUE_FULL',
      text: 'the queue is full',
    })
  })

  it('throws nothing but RelayError on any input (fast-check)', () => {
    const words = fc.constantFrom(
      'SEND',
      'ACK',
      'PING',
      'QUIT',
      'MSG',
      'SENT',
      'FAIL',
      'ERROR',
      'WELCOME',
      A,
      'm1',
      'aGk',
      'ERR_X',
      '1.2.3.4',
    )
    const line = fc.oneof(
      fc.string(),
      fc.array(fc.oneof(words, fc.string()), { maxLength: 6 }).map((w) => w.join(' ')),
    )
    fc.assert(
      fc.property(line, (text) => {
        for (const parse of [parseClientLine, parseServerLine]) {
          try {
            parse(text)
          } catch (err) {
            if (!(err instanceof RelayError)) throw err
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('MemoryMessageStore', () => {
  const limits = { maxPerNode: 3, maxPerPair: 2, maxTotal: 5, maxBytes: 1000 }
  const msg = (from: string, to: string, id: string, expiresAt = 100) => ({
    from,
    to,
    id,
    payload: 'aGk',
    fromAddress: '127.0.0.1',
    expiresAt,
  })

  it('keeps messages until acked and drops repeats', () => {
    const s = new MemoryMessageStore(limits)
    expect(s.put(msg(A, B, '1'), 0)).toBe(true)
    expect(s.put(msg(A, B, '1'), 0)).toBe(false)
    expect(s.pending(B, 0).map((m) => m.id)).toEqual(['1'])
    expect(s.ack(B, A, '1')).toBe(true)
    expect(s.pending(B, 0)).toEqual([])
    expect(s.size).toBe(0)
  })

  it('enforces per-pair, per-node and total limits with typed errors', () => {
    const s = new MemoryMessageStore(limits)
    s.put(msg(A, B, '1'), 0)
    s.put(msg(A, B, '2'), 0)
    expect(() => s.put(msg(A, B, '3'), 0)).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' }))
    s.put(msg(C, B, '1'), 0)
    expect(() => s.put(msg(C, B, '2'), 0)).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' }))
    s.put(msg(A, C, '1'), 0)
    s.put(msg(B, C, '1'), 0)
    expect(() => s.put(msg(B, A, '1'), 0)).toThrow(expect.objectContaining({ code: 'ERR_RELAY_FULL' }))
  })

  it('expires messages', () => {
    const s = new MemoryMessageStore(limits)
    s.put(msg(A, B, '1', 10), 0)
    s.put(msg(A, B, '2', 20), 0)
    expect(s.pending(B, 10).map((m) => m.id)).toEqual(['2'])
    expect(s.sweep(20)).toBe(1)
    expect(s.size).toBe(0)
  })
})

describe('RelayRateLimits (the relay on @pyp2p/limits)', () => {
  it('uses the default bursts from constants.ts, one bucket per key', () => {
    const l = new RelayRateLimits({}, manualClock())
    const drain = (r: typeof l.senders, key: string): number => {
      let n = 0
      while (r.take(key)) n++
      return n
    }
    expect(drain(l.senders, A)).toBe(SENDER_BURST)
    expect(drain(l.ips, '10.0.0.1')).toBe(IP_BURST)
    expect(drain(l.auths, '10.0.0.1')).toBe(AUTH_BURST)
    expect(l.senders.take(B)).toBe(true) // another key has its own bucket
  })

  it('refills on the injected clock and sweeps full buckets', () => {
    const clock = manualClock(1_000_000)
    const l = new RelayRateLimits({ senderLimit: { burst: 2, perSecond: 1 } }, clock)
    expect([l.senders.take(A), l.senders.take(A), l.senders.take(A)]).toEqual([true, true, false])
    clock.advance(999)
    expect(l.senders.take(A)).toBe(false)
    clock.advance(1)
    expect(l.senders.take(A)).toBe(true)
    l.ips.take('10.0.0.1')
    l.auths.take('10.0.0.1')
    clock.advance(10_000)
    l.sweep(clock.now())
    expect([l.senders.size, l.ips.size, l.auths.size]).toEqual([0, 0, 0])
  })

  it('refuses a limit that makes no sense with ERR_INVALID_LIMIT', () => {
    for (const bad of [
      { burst: 0, perSecond: 1 },
      { burst: 1, perSecond: -1 },
    ]) {
      expect(() => new RelayRateLimits({ ipLimit: bad }, manualClock())).toThrow(LimitsError)
      expect(() => new RelayRateLimits({ authLimit: bad }, manualClock())).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_LIMIT' }),
      )
    }
  })
})
