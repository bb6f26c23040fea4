import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseNetnsList } from '../src/leftovers.js'
import { miniupnpdConfig, parseLeases, readyPatterns } from '../src/miniupnpd.js'

describe('parseLeases (miniupnpd lease file)', () => {
  it('reads protocol, ports, internal address and a description that may hold colons', () => {
    const text = 'TCP:30000:10.1.0.2:4000:1764043200:netlab test\nUDP:5000:10.1.0.3:5000:0:a:b:c\n'
    expect(parseLeases(text)).toEqual([
      {
        protocol: 'TCP',
        externalPort: 30000,
        internalIp: '10.1.0.2',
        internalPort: 4000,
        description: 'netlab test',
      },
      {
        protocol: 'UDP',
        externalPort: 5000,
        internalIp: '10.1.0.3',
        internalPort: 5000,
        description: 'a:b:c',
      },
    ])
  })

  it('skips malformed lines', () => {
    expect(parseLeases('\nICMP:1:2:3:4:x\nTCP:x:10.0.0.1:1:0:d\nTCP\n')).toEqual([])
  })

  it('round-trips generated entries and never throws on random text', () => {
    const entry = fc.record({
      protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
      externalPort: fc.integer({ min: 1, max: 65535 }),
      internalIp: fc.ipV4(),
      internalPort: fc.integer({ min: 1, max: 65535 }),
      description: fc.string().filter((s) => !s.includes('\n')),
    })
    fc.assert(
      fc.property(fc.array(entry), (entries) => {
        const text = entries
          .map((e) => `${e.protocol}:${e.externalPort}:${e.internalIp}:${e.internalPort}:0:${e.description}`)
          .join('\n')
        expect(parseLeases(text)).toEqual(entries)
      }),
    )
    fc.assert(fc.property(fc.string(), (s) => Array.isArray(parseLeases(s))))
  })
})

describe('parseNetnsList', () => {
  it('takes the names from `ip netns list`', () => {
    expect(parseNetnsList('nl1-ab12-a (id: 3)\nnl1-ab12-b\n\n')).toEqual(['nl1-ab12-a', 'nl1-ab12-b'])
  })
})

describe('miniupnpd config', () => {
  const conf = (mode: 'igd2+natpmp' | 'igd2' | 'igd1' | 'natpmp') =>
    miniupnpdConfig({ mode, index: 3, lanSubnet: '10.1.0.0/24', leaseFile: '/tmp/l' })
  it('enables the services of each mode', () => {
    expect(conf('igd2+natpmp')).toMatch(/enable_upnp=yes\nenable_natpmp=yes\nforce_igd_desc_v1=no/)
    expect(conf('igd2')).toMatch(/enable_upnp=yes\nenable_natpmp=no\nforce_igd_desc_v1=no/)
    expect(conf('igd1')).toMatch(/enable_upnp=yes\nenable_natpmp=no\nforce_igd_desc_v1=yes/)
    expect(conf('natpmp')).toMatch(/enable_upnp=no\nenable_natpmp=yes/)
    expect(conf('igd1')).toContain('uuid=7c0b8c4e-3d5a-4f7e-9b1a-000000000003')
    expect(conf('igd1')).toMatch(/secure_mode=yes/)
    expect(conf('igd1')).toMatch(/allow 1-65535 10\.1\.0\.0\/24 1-65535\ndeny 0-65535 0\.0\.0\.0\/0 0-65535/)
  })
  it('waits for the lines of the services it enabled', () => {
    expect(readyPatterns('natpmp').map(String)).toEqual([
      '/Listening for NAT-PMP\\/PCP traffic on port 5351/',
    ])
    expect(readyPatterns('igd2+natpmp')).toHaveLength(2)
  })
})
