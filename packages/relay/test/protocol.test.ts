import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CircuitError, parseClientLine, parseServerLine } from '../src/index.js'
import {
  formatAccept,
  formatChallenge,
  formatConnect,
  formatEnd,
  formatIncoming,
  formatOk,
  formatProve,
  formatReserve,
  formatReserved,
} from '../src/protocol.js'

const id = fc.stringMatching(/^[0-9a-f]{40}$/)
const circuit = fc.stringMatching(/^[0-9a-f]{24}$/)
const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/)
const limits = fc.record({ maxBytes: fc.nat(), maxDurationMs: fc.nat() })

describe('circuit protocol lines', () => {
  it('client lines round-trip', () => {
    fc.assert(
      fc.property(id, id, circuit, b64, b64, (a, b, c, k, s) => {
        expect(parseClientLine(formatReserve(a))).toEqual({ type: 'RESERVE', nodeId: a })
        expect(parseClientLine(formatProve(k, s))).toEqual({ type: 'PROVE', publicKey: k, signature: s })
        expect(parseClientLine(formatConnect(a, b))).toEqual({ type: 'CONNECT', target: a, dialler: b })
        expect(parseClientLine(formatAccept(c))).toEqual({ type: 'ACCEPT', circuitId: c })
      }),
    )
  })

  it('server lines round-trip', () => {
    fc.assert(
      fc.property(id, circuit, b64, limits, (a, c, n, l) => {
        expect(parseServerLine(formatChallenge(n))).toEqual({ type: 'CHALLENGE', nonce: n })
        expect(parseServerLine(formatReserved(a, l))).toEqual({ type: 'RESERVED', nodeId: a, ...l })
        expect(parseServerLine(formatOk(c, l))).toEqual({ type: 'OK', circuitId: c, ...l })
        expect(parseServerLine(formatIncoming(c, a, '11.0.0.2'))).toEqual({
          type: 'INCOMING',
          circuitId: c,
          dialler: a,
          diallerIp: '11.0.0.2',
        })
        expect(parseServerLine(formatEnd(c, 'bytes'))).toEqual({ type: 'END', circuitId: c, reason: 'bytes' })
      }),
    )
  })

  it('random text never throws anything but ERR_PROTOCOL', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (line) => {
        for (const parse of [parseClientLine, parseServerLine]) {
          try {
            parse(line)
          } catch (err) {
            expect(err).toBeInstanceOf(CircuitError)
            expect((err as CircuitError).code).toBe('ERR_PROTOCOL')
          }
        }
        try {
          parseClientLine(`CIRCUIT ${line}`)
        } catch (err) {
          expect((err as CircuitError).code).toBe('ERR_PROTOCOL')
        }
      }),
    )
  })

  it('an ERROR line from the relay comes back typed', () => {
    const m = parseServerLine('ERROR ERR_NO_RESERVATION node x holds none')
    expect(m).toMatchObject({ type: 'ERROR', error: { code: 'ERR_NO_RESERVATION' } })
    expect(parseServerLine('ERROR ERR_WHATEVER text')).toMatchObject({ error: { code: 'ERR_PROTOCOL' } })
  })
})
