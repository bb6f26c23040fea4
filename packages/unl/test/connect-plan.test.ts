import { describe, expect, it } from 'vitest'
import { isMaster, planConnect, UNL, type UnlFields } from '../src/index.js'

function unl(nodeId: string, over: Partial<UnlFields> = {}): UNL {
  return new UNL({
    nodeId: nodeId.repeat(40),
    nodeType: 'passive',
    natType: 'preserving',
    forwarding: 'manual',
    port: 4000,
    wanAddress: `11.0.0.${nodeId === 'a' ? 1 : 2}`,
    lanAddress: '10.0.0.2',
    ...over,
  })
}
const all = { reverse: true, punch: true }
const names = (p: ReturnType<typeof planConnect>) => p.methods.map((m) => m.method)

describe('planConnect', () => {
  it('dials the LAN address when both share a WAN address', () => {
    const a = unl('a', { wanAddress: '11.0.0.9', lanAddress: '10.0.0.1' })
    const b = unl('b', { wanAddress: '11.0.0.9', lanAddress: '10.0.0.2', port: 5000 })
    const plan = planConnect(a, b, all)
    expect(plan.methods.find((m) => m.method === 'lan')).toEqual({
      method: 'lan',
      host: '10.0.0.2',
      port: 5000,
    })
    expect(names(plan)).toContain('reverse')
  })

  it('dials a passive peer directly on its public port, and can only ask an active one to dial back', () => {
    const a = unl('a', { nodeType: 'active', port: 0 })
    const b = unl('b', { externalPort: 6000 })
    expect(planConnect(a, b, all).methods).toEqual([{ method: 'direct', host: '11.0.0.2', port: 6000 }])
    const plan = planConnect(b, a, all)
    expect(names(plan)).toEqual(['reverse'])
    expect(plan.skipped.map((s) => s.error?.message)).toContain(
      'they do not accept connections (node type active)',
    )
  })

  it('lets the master dial and the other ask, so both ends agree on one direction', () => {
    const a = unl('a')
    const b = unl('b')
    const [master, other] = isMaster(a, b) ? [a, b] : [b, a]
    expect(names(planConnect(master, other, all))).toEqual(['direct', 'reverse'])
    expect(names(planConnect(other, master, all))).toEqual(['reverse', 'direct'])
  })

  it('punches only between two simultaneous nodes with a puncher, and says why not otherwise', () => {
    const a = unl('a', { nodeType: 'simultaneous' })
    const b = unl('b', { nodeType: 'simultaneous' })
    expect(names(planConnect(a, b, all))).toEqual(['punch'])
    const none = planConnect(a, b, { reverse: true, punch: false })
    expect(none.methods).toEqual([])
    expect(none.skipped.map((s) => `${s.method}: ${s.error?.message}`)).toEqual([
      'direct: they do not accept connections (node type simultaneous)',
      'reverse: we do not accept connections (node type simultaneous)',
      'punch: no puncher configured',
      'relay: no relayer configured',
    ])
  })

  it('skips reverse connect without a transport or a peer node id', () => {
    const a = unl('a')
    const b = unl('b', { nodeType: 'active', port: 0 })
    expect(planConnect(a, b, { reverse: false, punch: false }).skipped[1]?.error?.message).toMatch(
      /no message transport/,
    )
    const anon = new UNL({ ...b.toFields(), nodeId: '0'.repeat(40) })
    expect(names(planConnect(a, anon, all))).toEqual([])
  })
})
