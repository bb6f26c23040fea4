import { describe, expect, it } from 'vitest'
import { ipv6Of, planConnect, TLV_IPV6_ADDRESS, UNL, type UnlFields, withIpv6 } from '../src/index.js'
import { decodeUnlBytes, encodeUnlBytes } from '../src/unl-codec.js'

const fields = (nodeId: string, over: Partial<UnlFields> = {}): UnlFields => ({
  nodeId: nodeId.repeat(40),
  nodeType: 'passive',
  natType: 'preserving',
  forwarding: 'upnp',
  port: 4000,
  wanAddress: `11.0.0.${nodeId === 'a' ? 1 : 2}`,
  lanAddress: '10.0.0.2',
  ...over,
})
const all = { reverse: true, punch: true }

describe('the IPv6 extension (TLV_IPV6_ADDRESS)', () => {
  it('round-trips through text and bytes, canonical, replaced and removed', () => {
    const u = withIpv6(new UNL(fields('a')), '2001:DB8:0:0::7')
    expect(ipv6Of(u)).toBe('2001:db8::7')
    expect(ipv6Of(UNL.parse(u.text))).toBe('2001:db8::7')
    expect(u.extensions).toEqual([{ type: TLV_IPV6_ADDRESS, value: expect.any(Uint8Array) }])
    expect(ipv6Of(withIpv6(u, '2001:db8::8'))).toBe('2001:db8::8')
    expect(withIpv6(u, undefined).text).toBe(new UNL(fields('a')).text)
  })

  it('refuses what nobody can dial; ignores a malformed value like an unknown extension', () => {
    for (const bad of ['fe80::1', '::', 'ff02::1', '::ffff:1.2.3.4', '1.2.3.4', 'nonsense']) {
      expect(() => withIpv6(new UNL(fields('a')), bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_UNL' }),
      )
    }
    const odd = new UNL({
      ...fields('a'),
      extensions: [{ type: TLV_IPV6_ADDRESS, value: Uint8Array.of(1, 2, 3) }],
    })
    expect(ipv6Of(odd)).toBeUndefined()
    // a reader without this extension keeps it as an unknown optional one (type < 0x80)
    const bytes = encodeUnlBytes(withIpv6(new UNL(fields('a')), '2001:db8::7').toFields())
    expect(decodeUnlBytes(bytes).extensions?.[0]?.type).toBe(TLV_IPV6_ADDRESS)
  })

  it('planConnect dials their IPv6 address after their WAN address when both list one', () => {
    const a = withIpv6(new UNL(fields('a')), '2001:db8::1')
    const b = withIpv6(new UNL(fields('b', { externalPort: 6000 })), '2001:db8::2')
    const direct = planConnect(a, b, { reverse: false, punch: false }).methods
    expect(direct).toEqual([
      { method: 'direct', host: '11.0.0.2', port: 6000 },
      { method: 'direct', host: '2001:db8::2', port: 4000 },
    ])
    // without ours, or with theirs active, nothing changes
    expect(planConnect(new UNL(fields('a')), b, all).methods.map((m) => m.host)).not.toContain('2001:db8::2')
    const active = withIpv6(new UNL(fields('b', { nodeType: 'active', port: 0 })), '2001:db8::2')
    expect(planConnect(a, active, all).methods.map((m) => m.method)).toEqual(['reverse'])
    // an IPv6-only peer (no WAN address): the IPv6 dial replaces the skipped direct one
    const only6 = withIpv6(new UNL(fields('b', { wanAddress: '' })), '2001:db8::2')
    const plan = planConnect(a, only6, { reverse: false, punch: false })
    expect(plan.methods).toEqual([{ method: 'direct', host: '2001:db8::2', port: 4000 }])
    expect(plan.skipped.map((s) => s.method)).not.toContain('direct')
  })
})
