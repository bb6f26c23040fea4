import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatClientMessage,
  formatDialBackLine,
  formatError,
  formatServerMessage,
  isRendezvousProtocolError,
  mayBeDialBack,
  parseClientMessage,
  parseDialBackLine,
  parseServerMessage,
  type SignableMessage,
  withoutProof,
} from '../src/index.js'
import { clientMessage, proof, serverMessage, token } from './arbitraries.js'

const KEY = Buffer.alloc(32, 7).toString('base64url')
const SIGNATURE = Buffer.alloc(64, 9).toString('base64url')

/** Runs `fn`; passes when it returns or throws a RendezvousProtocolError, fails on anything else. */
function onlyTypedErrors(fn: () => unknown): boolean {
  try {
    fn()
    return true
  } catch (error) {
    if (isRendezvousProtocolError(error)) return true
    throw error
  }
}

/** Random lines built from protocol words, so the parsers get past the command word often. */
const wordy = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'BOOTSTRAP',
        'PASSIVE',
        'SIMULTANEOUS',
        'READY',
        'SOURCE',
        'TCP',
        'CANDIDATE',
        'ACCEPT',
        'REJECT',
        'CLEAR',
        'CHECK',
        'INBOUND',
        'RST',
        'DROP',
        'REACHABLE',
        'YES',
        'NO',
        'PYP2P-DIALBACK/1',
        'AbCdEfGhIjKlMnOp_-',
        'QUIT',
        'PING',
        'PONG',
        'HELLO',
        'PYP2P/1',
        'NODES',
        'EMPTY',
        'OK',
        'REMOTE',
        'PREDICTION',
        'SET',
        'CHALLENGE',
        'FIGHT',
        'RECONNECT',
        'ERROR',
        'ERR_X',
        'punch=a',
        '0',
        '1',
        '65535',
        '65536',
        '100',
        '101',
        '-1',
        '08',
        '1.2.3.4',
        '::1',
        '[::1]',
        'ab'.repeat(20),
        'AB'.repeat(20),
        `p:${'ab'.repeat(20)}:1.2.3.4:80`,
        `p:${'ab'.repeat(20)}:[::1]:80`,
        `p:${'ab'.repeat(20)}:::1:80`,
        `p:${'ab'.repeat(20)}:1.2.3.4:80:u`,
        `p:${'ab'.repeat(20)}:1.2.3.4:80:x`,
        'SIG',
        'MARKED',
        KEY,
        SIGNATURE,
        `${KEY}B`,
        `nonce=${'n'.repeat(22)}`,
        'nonce=short',
        'server=s1',
      ),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 12 },
  )
  .chain((words) => fc.constantFrom(' ', '  ', '\t').map((sep) => words.join(sep)))

describe('round trip', () => {
  it('parseClientMessage(formatClientMessage(m)) equals m', () => {
    fc.assert(
      fc.property(clientMessage, (m) => {
        expect(parseClientMessage(formatClientMessage(m))).toEqual(m)
      }),
      { numRuns: 2000 },
    )
  })

  it('parseServerMessage(formatServerMessage(m)) equals m', () => {
    fc.assert(
      fc.property(serverMessage, (m) => {
        const expected = m.type === 'ERROR' && m.punchId === undefined ? { ...m } : m
        expect(parseServerMessage(formatServerMessage(m))).toEqual(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('formatted lines fit the line limits and never contain CR or LF', () => {
    fc.assert(
      fc.property(clientMessage, serverMessage, (c, s) => {
        const cl = formatClientMessage(c)
        const sl = formatServerMessage(s)
        expect(cl.length).toBeLessThanOrEqual(1024)
        expect(sl.length).toBeLessThanOrEqual(16 * 1024)
        expect(/[\r\n]/.test(cl + sl)).toBe(false)
      }),
    )
  })
})

describe('proofs', () => {
  const signable = clientMessage.filter(
    (m): m is SignableMessage =>
      m.type === 'READY' || m.type === 'CANDIDATE' || (m.type === 'CLEAR' && m.nodeId !== undefined),
  )

  it('a damaged proof is ERR_MALFORMED, never another message', () => {
    const damage = fc.oneof(
      fc.constant((k: string, s: string) => `${k.slice(1)} ${s}`),
      fc.constant((k: string, s: string) => `${k} ${s.slice(1)}`),
      fc.constant((k: string, s: string) => `${k}= ${s}`),
      fc.constant((k: string, s: string) => `${k.slice(0, -1)}B ${s}`),
      fc.constant((k: string, s: string) => `${k} ${s.slice(0, -1)}B`),
      fc.constant((k: string, s: string) => `${s} ${k}`),
      fc.constant((k: string, _s: string) => k),
      fc.constant((k: string, s: string) => `${k} ${s} 1`),
    )
    fc.assert(
      fc.property(signable, proof, damage, (m, p, dmg) => {
        const { proof: _p, ...bare } = m as typeof m & { proof?: unknown }
        const line = `${formatClientMessage(bare as typeof m)} SIG ${dmg(p.publicKey, p.signature)}`
        expect(() => parseClientMessage(line)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED' }))
      }),
      { numRuns: 1000 },
    )
  })

  it('the signed line is the formatted message without its proof', () => {
    fc.assert(
      fc.property(signable, proof, (m, p) => {
        const line = formatClientMessage({ ...m, proof: p } as typeof m)
        const parsed = parseClientMessage(line) as SignableMessage
        expect(parsed.proof).toEqual(p)
        expect(line).toBe(`${formatClientMessage(withoutProof(parsed))} SIG ${p.publicKey} ${p.signature}`)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('dial-back line', () => {
  it('parseDialBackLine(formatDialBackLine(n)) is n, and the line is recognised from any prefix', () => {
    fc.assert(
      fc.property(token, fc.nat(), (nonce, cut) => {
        const line = formatDialBackLine(nonce)
        expect(parseDialBackLine(line)).toBe(nonce)
        expect(mayBeDialBack(line.slice(0, cut % (line.length + 1)))).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('random lines: parseDialBackLine throws only typed errors; non-probe lines are told apart early', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (s) => {
        expect(onlyTypedErrors(() => parseDialBackLine(s))).toBe(true)
        if (!s.startsWith('PYP2P-DIALBACK/1 '.slice(0, s.length))) expect(mayBeDialBack(s)).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })

  it('a connect hello (PYP2P-CONNECT/1 ...) is never taken for a dial-back', () => {
    fc.assert(
      fc.property(token, (nonce) => {
        const hello = `PYP2P-CONNECT/1 ${nonce} ${'ab'.repeat(20)}`
        expect(mayBeDialBack(hello)).toBe(false)
        expect(onlyTypedErrors(() => parseDialBackLine(hello))).toBe(true)
        expect(() => parseDialBackLine(hello)).toThrow()
      }),
    )
  })
})

describe('random input throws only typed errors', () => {
  it('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
        expect(onlyTypedErrors(() => parseClientMessage(s))).toBe(true)
        expect(onlyTypedErrors(() => parseServerMessage(s))).toBe(true)
      }),
      { numRuns: 3000 },
    )
  })

  it('lines made of protocol words', () => {
    fc.assert(
      fc.property(wordy, (s) => {
        expect(onlyTypedErrors(() => parseClientMessage(s))).toBe(true)
        expect(onlyTypedErrors(() => parseServerMessage(s))).toBe(true)
      }),
      { numRuns: 5000 },
    )
  })

  it('random bytes decoded as latin1 and utf8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b = Buffer.from(bytes)
        for (const s of [b.toString('latin1'), b.toString('utf8')]) {
          expect(onlyTypedErrors(() => parseClientMessage(s))).toBe(true)
          expect(onlyTypedErrors(() => parseServerMessage(s))).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('formatters given random objects throw only typed errors', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(onlyTypedErrors(() => formatClientMessage(value as never))).toBe(true)
        expect(onlyTypedErrors(() => formatServerMessage(value as never))).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('formatError makes a valid ERROR line from any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600, unit: 'binary' }), (s) => {
        const line = formatError('ERR_MALFORMED', s)
        const parsed = parseServerMessage(line)
        expect(parsed.type).toBe('ERROR')
      }),
    )
  })
})
