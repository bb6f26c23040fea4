import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PORT,
  formatClientMessage,
  formatDialBackLine,
  formatServerMessage,
  parseClientMessage,
  parseDialBackLine,
  parseServerMessage,
  RendezvousProtocolError,
} from '../src/index.js'

const A = 'ab'.repeat(20)
const B = '0123456789abcdef0123456789abcdef01234567'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RendezvousProtocolError)
    return (error as RendezvousProtocolError).code
  }
  return undefined
}

describe('client lines from PROTOCOL.md', () => {
  it.each([
    ['BOOTSTRAP 5', { type: 'BOOTSTRAP', count: 5 }],
    [
      `PASSIVE READY 8000 10 ${A}`,
      { type: 'READY', nodeType: 'passive', port: 8000, maxInbound: 10, nodeId: A },
    ],
    [
      `SIMULTANEOUS READY 1 0 ${A.toUpperCase()}`,
      { type: 'READY', nodeType: 'simultaneous', port: 1, maxInbound: 0, nodeId: A },
    ],
    ['SOURCE TCP 40000', { type: 'SOURCE', localPort: 40000 }],
    [`CANDIDATE ${B} ${A} TCP 1 2 3`, { type: 'CANDIDATE', targetNodeId: B, nodeId: A, ports: [1, 2, 3] }],
    ['ACCEPT 0011aabbccddeeff TCP 9 8', { type: 'ACCEPT', punchId: '0011aabbccddeeff', ports: [9, 8] }],
    ['REJECT p1 busy right now', { type: 'REJECT', punchId: 'p1', reason: 'busy right now' }],
    ['CLEAR', { type: 'CLEAR' }],
    [
      `PASSIVE READY 8000 10 ${A} tok_0123456789-abcdef`,
      {
        type: 'READY',
        nodeType: 'passive',
        port: 8000,
        maxInbound: 10,
        nodeId: A,
        clearToken: 'tok_0123456789-abcdef',
      },
    ],
    [
      `CLEAR ${A.toUpperCase()} tok_0123456789-abcdef`,
      { type: 'CLEAR', nodeId: A, clearToken: 'tok_0123456789-abcdef' },
    ],
    ['CHECK TCP 50500 n0nce', { type: 'CHECK', port: 50500, nonce: 'n0nce' }],
    ['INBOUND TCP RST', { type: 'INBOUND', policy: 'rst' }],
    ['INBOUND TCP DROP', { type: 'INBOUND', policy: 'drop' }],
    ['QUIT', { type: 'QUIT' }],
    ['PING abc', { type: 'PING', token: 'abc' }],
    ['  PONG\tabc  ', { type: 'PONG', token: 'abc' }],
  ])('%s', (line, expected) => {
    expect(parseClientMessage(line)).toEqual(expected)
  })

  it.each([
    ['BOOTSTRAP 0', 'ERR_MALFORMED'],
    ['BOOTSTRAP 101', 'ERR_MALFORMED'],
    ['BOOTSTRAP 08', 'ERR_MALFORMED'],
    ['BOOTSTRAP +5', 'ERR_MALFORMED'],
    ['BOOTSTRAP', 'ERR_MALFORMED'],
    ['BOOTSTRAP 5 6', 'ERR_MALFORMED'],
    [`PASSIVE READY 0 10 ${A}`, 'ERR_MALFORMED'],
    [`PASSIVE READY 65536 10 ${A}`, 'ERR_MALFORMED'],
    [`PASSIVE READY 80 10 ${A}0`, 'ERR_MALFORMED'],
    ['PASSIVE READY 80 10', 'ERR_MALFORMED'],
    [`PASSIVE SET 80 10 ${A}`, 'ERR_MALFORMED'],
    ['SOURCE UDP 80', 'ERR_MALFORMED'],
    [`CANDIDATE ${B} ${A} TCP`, 'ERR_MALFORMED'],
    [`CANDIDATE ${B} ${A} TCP ${Array(33).fill(1).join(' ')}`, 'ERR_MALFORMED'],
    ['ACCEPT bad/id TCP 1', 'ERR_MALFORMED'],
    ['REJECT p1', 'ERR_MALFORMED'],
    ['CLEAR now', 'ERR_MALFORMED'],
    [`CLEAR ${A}`, 'ERR_MALFORMED'],
    [`CLEAR ${A} short`, 'ERR_MALFORMED'],
    [`CLEAR ${A} ${'x'.repeat(65)}`, 'ERR_MALFORMED'],
    [`PASSIVE READY 80 10 ${A} tooshort`, 'ERR_MALFORMED'],
    [`PASSIVE READY 80 10 ${A} ${'t'.repeat(16)} extra`, 'ERR_MALFORMED'],
    ['CHECK TCP 0 n', 'ERR_MALFORMED'],
    ['CHECK UDP 80 n', 'ERR_MALFORMED'],
    ['CHECK TCP 80', 'ERR_MALFORMED'],
    ['CHECK TCP 80 bad/nonce', 'ERR_MALFORMED'],
    ['CHECK TCP 80 n 1.2.3.4', 'ERR_MALFORMED'],
    ['INBOUND TCP rst', 'ERR_MALFORMED'],
    ['INBOUND UDP RST', 'ERR_MALFORMED'],
    ['INBOUND TCP', 'ERR_MALFORMED'],
    ['INBOUND TCP DROP x', 'ERR_MALFORMED'],
    ['bootstrap 5', 'ERR_UNKNOWN_COMMAND'],
    ['HELLO PYP2P/1 1.2.3.4 5', 'ERR_UNKNOWN_COMMAND'],
    ['', 'ERR_UNKNOWN_COMMAND'],
    ['BOOTSTRAP 5\r\nQUIT', 'ERR_MALFORMED'],
    [`BOOTSTRAP ${'1'.repeat(2000)}`, 'ERR_LINE_TOO_LONG'],
  ])('rejects %j with %s', (line, code) => {
    expect(codeOf(() => parseClientMessage(line))).toBe(code)
  })
})

describe('server lines from PROTOCOL.md', () => {
  it.each([
    [
      'HELLO PYP2P/1 127.0.0.1 5000',
      { type: 'HELLO', version: 1, ip: '127.0.0.1', port: 5000, extensions: [] },
    ],
    [
      'HELLO PYP2P/2 ::1 5000 RELAY',
      { type: 'HELLO', version: 2, ip: '::1', port: 5000, extensions: ['RELAY'] },
    ],
    ['NODES EMPTY', { type: 'NODES', nodes: [] }],
    [
      `NODES p:${A}:198.51.100.7:8000 s:${B}:[2001:db8::1]:9`,
      {
        type: 'NODES',
        nodes: [
          { nodeType: 'passive', nodeId: A, ip: '198.51.100.7', port: 8000 },
          { nodeType: 'simultaneous', nodeId: B, ip: '2001:db8::1', port: 9 },
        ],
      },
    ],
    ['OK SIMULTANEOUS', { type: 'OK', what: 'SIMULTANEOUS' }],
    ['OK INBOUND', { type: 'OK', what: 'INBOUND' }],
    ['REMOTE TCP 61000', { type: 'REMOTE', port: 61000 }],
    ['REACHABLE TCP 50500 YES', { type: 'REACHABLE', port: 50500, reachable: true }],
    [
      'REACHABLE TCP 50500 NO connection refused',
      { type: 'REACHABLE', port: 50500, reachable: false, reason: 'connection refused' },
    ],
    ['PREDICTION SET 00ff', { type: 'PREDICTION_SET', punchId: '00ff' }],
    [
      `CHALLENGE x1 ${A} 10.0.0.1 TCP 5 6`,
      { type: 'CHALLENGE', punchId: 'x1', nodeId: A, ip: '10.0.0.1', ports: [5, 6] },
    ],
    [
      'FIGHT x1 10.0.0.2 TCP 7 8 120',
      { type: 'FIGHT', punchId: 'x1', ip: '10.0.0.2', ports: [7, 8], delayMs: 120 },
    ],
    ['RECONNECT', { type: 'RECONNECT' }],
    ['ERROR ERR_MALFORMED bad port', { type: 'ERROR', code: 'ERR_MALFORMED', text: 'bad port' }],
    [
      'ERROR ERR_PEER_GONE punch=x1 the candidate disconnected',
      { type: 'ERROR', code: 'ERR_PEER_GONE', punchId: 'x1', text: 'the candidate disconnected' },
    ],
  ])('%s', (line, expected) => {
    expect(parseServerMessage(line)).toEqual(expected)
    expect(formatServerMessage(parseServerMessage(line))).toBe(line.replace(/^NODES s:/, 'NODES s:'))
  })

  it.each([
    ['HELLO PYP2P/0 1.2.3.4 5'],
    ['HELLO PYP/1 1.2.3.4 5'],
    ['HELLO PYP2P/1 1.2.3.256 5'],
    [`NODES p:${A}:::1:80`],
    [`NODES p:${A}:[1.2.3.4]:80`],
    [`NODES x:${A}:1.2.3.4:80`],
    [`NODES p:${A}:1.2.3.4:0`],
    ['NODES EMPTY x'],
    ['NODES'],
    ['FIGHT x1 10.0.0.2 TCP 7'],
    ['FIGHT x1 10.0.0.2 TCP 7 30001'],
    ['ERROR bad'],
    ['ERROR ERR_X punch=bad/id text'],
    ['OK MAYBE'],
    ['REACHABLE TCP 80 NO'],
    ['REACHABLE TCP 80 YES because'],
    ['REACHABLE TCP 80 MAYBE'],
    ['REACHABLE UDP 80 YES'],
    ['REACHABLE TCP 0 YES'],
  ])('rejects %j as malformed', (line) => {
    expect(codeOf(() => parseServerMessage(line))).toBe('ERR_MALFORMED')
  })
})

describe('formatters', () => {
  it('refuse half a CLEAR, short clear tokens and a REACHABLE without its reason', () => {
    const bad = [
      () => formatClientMessage({ type: 'CLEAR', nodeId: A }),
      () => formatClientMessage({ type: 'CLEAR', clearToken: 'x'.repeat(16) }),
      () => formatClientMessage({ type: 'CLEAR', nodeId: A, clearToken: 'short' }),
      () =>
        formatClientMessage({
          type: 'READY',
          nodeType: 'passive',
          port: 1,
          maxInbound: 1,
          nodeId: A,
          clearToken: 'a b'.repeat(8),
        }),
      () => formatClientMessage({ type: 'CHECK', port: 0, nonce: 'n' }),
      () => formatServerMessage({ type: 'REACHABLE', port: 1, reachable: false }),
      () => formatServerMessage({ type: 'REACHABLE', port: 1, reachable: true, reason: 'x' }),
    ]
    for (const fn of bad) expect(codeOf(fn)).toBe('ERR_INVALID_MESSAGE')
    expect(formatDialBackLine('n0nce')).toBe('PYP2P-DIALBACK/1 n0nce')
    expect(parseDialBackLine('PYP2P-DIALBACK/1 n0nce')).toBe('n0nce')
    expect(codeOf(() => parseDialBackLine('PYP2P-DIALBACK/1 '))).toBe('ERR_MALFORMED')
    expect(codeOf(() => formatDialBackLine('no spaces please'))).toBe('ERR_INVALID_MESSAGE')
  })

  it('refuse invalid values with ERR_INVALID_MESSAGE', () => {
    expect(codeOf(() => formatClientMessage({ type: 'BOOTSTRAP', count: 0 }))).toBe('ERR_INVALID_MESSAGE')
    expect(codeOf(() => formatClientMessage({ type: 'SOURCE', localPort: 1.5 }))).toBe('ERR_INVALID_MESSAGE')
    expect(
      codeOf(() =>
        formatClientMessage({ type: 'CANDIDATE', targetNodeId: A.toUpperCase(), nodeId: A, ports: [1] }),
      ),
    ).toBe('ERR_INVALID_MESSAGE')
    expect(codeOf(() => formatClientMessage({ type: 'REJECT', punchId: 'a', reason: 'two  spaces' }))).toBe(
      'ERR_INVALID_MESSAGE',
    )
    expect(
      codeOf(() =>
        formatServerMessage({ type: 'FIGHT', punchId: 'a', ip: '1.2.3.4', ports: [], delayMs: 1 }),
      ),
    ).toBe('ERR_INVALID_MESSAGE')
  })

  it('writes the shapes of the contract', () => {
    expect(
      formatClientMessage({ type: 'READY', nodeType: 'simultaneous', port: 80, maxInbound: 3, nodeId: A }),
    ).toBe(`SIMULTANEOUS READY 80 3 ${A}`)
    expect(
      formatServerMessage({ type: 'NODES', nodes: [{ nodeType: 'passive', nodeId: A, ip: '::1', port: 1 }] }),
    ).toBe(`NODES p:${A}:[::1]:1`)
    expect(DEFAULT_PORT).toBe(8000)
  })
})
