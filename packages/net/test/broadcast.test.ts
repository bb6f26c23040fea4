/**
 * `broadcast()` sends a line at most once per node (the original's SHA-256 duplicate filter, issue 16
 * item 5): flooding through a triangle of real connections delivers every line once at every node and
 * stops; the memory of lines sent is bounded.
 */
import type { LineSocket } from '@pyp2p/framing'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { RelayedLines } from '../src/broadcast.js'
import { BROADCAST_MEMORY, type Net } from '../src/index.js'
import { until, WAIT_MS } from './helpers.js'

describe('RelayedLines', () => {
  it('recognises a repeat, and forgets the oldest line past its capacity', () => {
    const r = new RelayedLines(2)
    expect([r.remember('a'), r.remember('a'), r.remember('b')]).toEqual([true, false, true])
    expect(r.remember('c')).toBe(true) // 'a' forgotten: the oldest of three
    expect([r.has('a'), r.has('b'), r.has('c'), r.size]).toEqual([false, true, true, 2])
    expect(r.remember('a')).toBe(true)
    expect(new RelayedLines().capacity).toBe(BROADCAST_MEMORY)
    expect(() => new RelayedLines(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })

  it('holds at most its capacity, whatever was sent', () => {
    const r = new RelayedLines(100)
    for (let i = 0; i < 1_000; i++) r.remember(`line ${i} ${'x'.repeat(i)}`)
    expect(r.size).toBe(100)
  })
})

describe('broadcast() through a triangle of nodes', () => {
  it('every line reaches every node once, and flooding stops', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const nets = tn.nodes as [Net, Net, Net]
    const [a, b, c] = nets
    await a.bootstrap() // a-b, a-c
    await until([b, c], () => b.connections().length === 1 && c.connections().length === 1, 'a-b, a-c')
    await b.bootstrap() // b-c (b has a already)
    await until(nets, () => nets.every((n) => n.connections().length === 2), 'a triangle')

    // Every node floods: a line not seen before is used and relayed to the others, a repeat dropped.
    const delivered = new Map<Net, string[]>(nets.map((n) => [n, []]))
    let sent = 0
    let received = 0
    let repeats = 0
    let quiet: (() => void) | undefined
    const relay = (n: Net, con: LineSocket, line: string): void => {
      received++
      if (n.seen(line)) repeats++
      else {
        delivered.get(n)!.push(line)
        sent += n.broadcast(line, con)
      }
      // Every line sent has arrived and been handled: nothing is in flight, so nothing more comes.
      if (received === sent) quiet?.()
    }
    for (const n of nets) for (const con of n.connections()) con.on('line', (line) => relay(n, con, line))
    const flood = async (from: Net, line: string): Promise<void> => {
      const settled = new Promise<void>((resolve) => {
        quiet = resolve
      })
      sent += from.broadcast(line)
      await Promise.race([
        settled,
        new Promise((_, reject) => AbortSignal.timeout(WAIT_MS).addEventListener('abort', reject)),
      ])
    }

    await flood(a, 'news from a')
    // a sent it to b and c; each relayed it once to the other; the two copies that met were dropped.
    expect({ sent, received, repeats }).toEqual({ sent: 4, received: 4, repeats: 2 })
    expect(delivered.get(a)).toEqual([])
    expect(delivered.get(b)).toEqual(['news from a'])
    expect(delivered.get(c)).toEqual(['news from a'])

    await flood(c, 'news from c')
    expect({ sent, received, repeats }).toEqual({ sent: 8, received: 8, repeats: 4 })
    expect(delivered.get(a)).toEqual(['news from c'])
    expect(delivered.get(b)).toEqual(['news from a', 'news from c'])

    // The same line again is not sent again, by its origin or anyone.
    expect(a.broadcast('news from a')).toBe(0)
    expect(b.broadcast('news from c')).toBe(0)
    expect(a.seen('news from c')).toBe(true)
  })
})
