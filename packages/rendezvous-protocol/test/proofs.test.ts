import { describe, expect, it } from 'vitest'
import {
  formatClientMessage,
  formatServerMessage,
  MAX_HELLO_LIFETIME_SECONDS,
  parseClientMessage,
  parseServerMessage,
  proofFields,
  RendezvousProtocolError,
  WIRE_ERROR_CODES,
} from '../src/index.js'

const A = 'ab'.repeat(20)
const B = '0123456789abcdef0123456789abcdef01234567'
const KEY = Buffer.alloc(32, 7).toString('base64url')
const SIG = Buffer.alloc(64, 9).toString('base64url')
const TOKEN = 'T'.repeat(22)
const proof = { publicKey: KEY, signature: SIG }

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RendezvousProtocolError)
    return (error as RendezvousProtocolError).code
  }
  return undefined
}

describe('signed commands (PROTOCOL.md, "Proofs")', () => {
  it.each([
    [
      `PASSIVE READY 8000 10 ${A} ${TOKEN} SIG ${KEY} ${SIG}`,
      { type: 'READY', nodeType: 'passive', port: 8000, maxInbound: 10, nodeId: A, clearToken: TOKEN, proof },
    ],
    [
      `SIMULTANEOUS READY 8000 10 ${A} SIG ${KEY} ${SIG}`,
      { type: 'READY', nodeType: 'simultaneous', port: 8000, maxInbound: 10, nodeId: A, proof },
    ],
    [`CLEAR ${A} ${TOKEN} SIG ${KEY} ${SIG}`, { type: 'CLEAR', nodeId: A, clearToken: TOKEN, proof }],
    [
      `CANDIDATE ${B} ${A} TCP 5 6 SIG ${KEY} ${SIG}`,
      { type: 'CANDIDATE', targetNodeId: B, nodeId: A, ports: [5, 6], proof },
    ],
    [`BOOTSTRAP 5 MARKED`, { type: 'BOOTSTRAP', count: 5, marked: true }],
  ])('parses and formats %s', (line, expected) => {
    expect(parseClientMessage(line)).toEqual(expected)
    expect(formatClientMessage(parseClientMessage(line))).toBe(line)
  })

  it.each([
    [`PASSIVE READY 8000 10 ${A} SIG ${KEY}`],
    [`PASSIVE READY 8000 10 ${A} SIG ${KEY} ${SIG} x`],
    [`PASSIVE READY 8000 10 ${A} SIG ${SIG} ${KEY}`],
    [`PASSIVE READY 8000 10 ${A} SIG ${KEY}= ${SIG}`],
    [`PASSIVE READY 8000 10 ${A} SIG ${KEY.slice(0, -1)}B ${SIG}`],
    [`PASSIVE READY 8000 10 ${A} SIG ${KEY} ${SIG.slice(0, -1)}B`],
    [`PASSIVE READY 8000 10 ${A} sig ${KEY} ${SIG}`],
    [`CLEAR SIG ${KEY} ${SIG}`],
    [`CANDIDATE ${B} ${A} TCP SIG ${KEY} ${SIG}`],
    [`BOOTSTRAP 5 marked`],
    [`BOOTSTRAP 5 MARKED x`],
  ])('rejects %j with ERR_MALFORMED', (line) => {
    expect(codeOf(() => parseClientMessage(line))).toBe('ERR_MALFORMED')
  })

  it('signs the nonce, the server id and the line without its proof as separate fields', () => {
    expect(proofFields('n'.repeat(22), 's1', `CLEAR ${A} ${TOKEN}`)).toEqual([
      'n'.repeat(22),
      's1',
      `CLEAR ${A} ${TOKEN}`,
    ])
    expect(WIRE_ERROR_CODES).toContain('ERR_SIGNATURE_REQUIRED')
    expect(WIRE_ERROR_CODES).toContain('ERR_BAD_SIGNATURE')
  })
})

describe('HELLO nonce and server id, unproven NODES entries', () => {
  const N = 'abcdefghijklmnopqrstuv'
  it('takes nonce= and server= out of the extensions, in any order', () => {
    expect(parseServerMessage(`HELLO PYP2P/1 127.0.0.1 5000 server=rs.1:8000 RELAY nonce=${N}`)).toEqual({
      type: 'HELLO',
      version: 1,
      ip: '127.0.0.1',
      port: 5000,
      nonce: N,
      serverId: 'rs.1:8000',
      extensions: ['RELAY'],
    })
    expect(
      formatServerMessage({
        type: 'HELLO',
        version: 1,
        ip: '127.0.0.1',
        port: 5000,
        nonce: N,
        serverId: 's',
        extensions: [],
      }),
    ).toBe(`HELLO PYP2P/1 127.0.0.1 5000 nonce=${N} server=s`)
  })

  it('takes lifetime= and proofs=connection out of the extensions; a v1 reader would ignore them', () => {
    const line = `HELLO PYP2P/1 127.0.0.1 5000 nonce=${N} server=s lifetime=86400 proofs=connection RELAY`
    const hello = {
      type: 'HELLO',
      version: 1,
      ip: '127.0.0.1',
      port: 5000,
      nonce: N,
      serverId: 's',
      lifetimeSeconds: 86_400,
      connectionProofs: true,
      extensions: ['RELAY'],
    } as const
    expect(parseServerMessage(line)).toEqual(hello)
    expect(formatServerMessage(hello)).toBe(line)
    // The words are plain extension words: what a parser without these fields kept (and ignored).
    expect(
      line
        .split(' ')
        .slice(4)
        .every((w) => /^[\x21-\x7e]+$/.test(w)),
    ).toBe(true)
  })

  it.each([
    ['HELLO PYP2P/1 1.2.3.4 5 lifetime=0'],
    ['HELLO PYP2P/1 1.2.3.4 5 lifetime=08'],
    ['HELLO PYP2P/1 1.2.3.4 5 lifetime=1.5'],
    [`HELLO PYP2P/1 1.2.3.4 5 lifetime=${MAX_HELLO_LIFETIME_SECONDS + 1}`],
    ['HELLO PYP2P/1 1.2.3.4 5 lifetime=60 lifetime=60'],
    ['HELLO PYP2P/1 1.2.3.4 5 proofs=connection proofs=connection'],
    ['HELLO PYP2P/1 1.2.3.4 5 nonce=short'],
    [`HELLO PYP2P/1 1.2.3.4 5 nonce=${N} nonce=${N}`],
    ['HELLO PYP2P/1 1.2.3.4 5 server='],
    ['HELLO PYP2P/1 1.2.3.4 5 server=a/b'],
    [`NODES p:${A}:1.2.3.4:80:x`],
    [`NODES p:${A}:1.2.3.4:80:`],
  ])('rejects %j with ERR_MALFORMED', (line) => {
    expect(codeOf(() => parseServerMessage(line))).toBe('ERR_MALFORMED')
  })

  it('marks unproven entries with :u', () => {
    const line = `NODES p:${A}:1.2.3.4:80:u s:${B}:[::1]:9`
    expect(parseServerMessage(line)).toEqual({
      type: 'NODES',
      nodes: [
        { nodeType: 'passive', nodeId: A, ip: '1.2.3.4', port: 80, unproven: true },
        { nodeType: 'simultaneous', nodeId: B, ip: '::1', port: 9 },
      ],
    })
    expect(formatServerMessage(parseServerMessage(line))).toBe(line)
  })

  it('formatters refuse a proof without a node id, bad proofs, and nonce= smuggled as an extension', () => {
    const bad = [
      () => formatClientMessage({ type: 'CLEAR', proof }),
      () =>
        formatClientMessage({
          type: 'CLEAR',
          nodeId: A,
          clearToken: TOKEN,
          proof: { ...proof, publicKey: 'x' },
        }),
      () =>
        formatServerMessage({ type: 'HELLO', version: 1, ip: '::1', port: 1, extensions: [`nonce=${N}`] }),
      () =>
        formatServerMessage({ type: 'HELLO', version: 1, ip: '::1', port: 1, nonce: 'x', extensions: [] }),
      () =>
        formatServerMessage({ type: 'HELLO', version: 1, ip: '::1', port: 1, extensions: ['lifetime=5'] }),
      () =>
        formatServerMessage({
          type: 'HELLO',
          version: 1,
          ip: '::1',
          port: 1,
          lifetimeSeconds: 0,
          extensions: [],
        }),
      () =>
        formatServerMessage({
          type: 'HELLO',
          version: 1,
          ip: '::1',
          port: 1,
          extensions: ['proofs=connection'],
        }),
    ]
    for (const fn of bad) expect(codeOf(fn)).toBe('ERR_INVALID_MESSAGE')
  })
})
