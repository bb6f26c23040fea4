import { readFileSync } from 'node:fs'
import type { NetworkInterfaceInfo } from 'node:os'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  parseIpRoute,
  parseNetstatRn,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseRouteGet,
  parseRoutePrint,
} from '../src/route-parsers.js'
import { defaultGateways, defaultRoutes } from '../src/route-table.js'

/** Output captured from each OS (test/data/routes), as its command or /proc file printed it. */
const fixture = (name: string) => readFileSync(new URL(`./data/routes/${name}`, import.meta.url), 'utf8')

const v4 = (address: string, netmask = '255.255.255.0'): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
})
const v6 = (address: string, scopeid = 0): NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
  scopeid,
})

describe('route parsers on captured output', () => {
  it('Linux /proc/net/route and /proc/net/ipv6_route', () => {
    expect(parseProcNetRoute(fixture('linux-proc-net-route.txt'))).toEqual([
      { family: 4, gateway: '192.168.1.1', iface: 'wlp2s0', metric: 600 },
    ])
    expect(parseProcNetIpv6Route(fixture('linux-proc-net-ipv6_route.txt'))).toEqual([
      { family: 6, gateway: 'fe80::a691:b1ff:fe11:2233%wlp2s0', iface: 'wlp2s0', metric: 600 },
    ])
    // a global next hop carries no zone
    const global =
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000001000000000000000000000001 00000400 00000001 00000000 00000003     eth0'
    expect(parseProcNetIpv6Route(global)).toEqual([
      { family: 6, gateway: 'fd00:1::1', iface: 'eth0', metric: 1024 },
    ])
  })

  it('Linux `ip route show default` and `ip -6 route show default`', () => {
    expect(parseIpRoute(fixture('linux-ip-route-default.txt'))).toEqual([
      { family: 4, gateway: '192.168.1.1', iface: 'wlp2s0', localAddress: '192.168.1.23', metric: 600 },
      { family: 4, gateway: '10.8.0.1', iface: 'tun0', metric: 50 },
    ])
    expect(parseIpRoute(fixture('linux-ip6-route-default.txt'))).toEqual([
      { family: 6, gateway: 'fe80::a691:b1ff:fe11:2233%wlp2s0', iface: 'wlp2s0', metric: 600 },
    ])
  })

  it('macOS `netstat -rn` (a VPN default through link#17 is not a gateway address) and `route -n get default`', () => {
    expect(parseNetstatRn(fixture('macos-netstat-rn.txt'))).toEqual([
      { family: 4, gateway: '192.168.1.1', iface: 'en0' },
      { family: 6, gateway: 'fe80::a691:b1ff:fe11:2233%en0', iface: 'en0' },
      { family: 6, gateway: 'fe80::%utun0', iface: 'utun0' },
    ])
    expect(parseRouteGet(fixture('macos-route-get-default.txt'))).toEqual([
      { family: 4, gateway: '192.168.1.1', iface: 'en0' },
    ])
  })

  it('Windows `route print`: active routes only, lowest metric first, our address per route', () => {
    expect(parseRoutePrint(fixture('windows-route-print.txt'))).toEqual([
      { family: 4, gateway: '10.0.0.1', iface: '', localAddress: '10.0.0.7', metric: 20 },
      { family: 4, gateway: '192.168.1.1', iface: '', localAddress: '192.168.1.42', metric: 35 },
      { family: 6, gateway: 'fe80::a691:b1ff:fe11:2233%12', iface: '12', metric: 291 },
    ])
  })

  it('never throws on any text and only reports IP gateways (property)', () => {
    const parsers = [
      parseProcNetRoute,
      parseProcNetIpv6Route,
      parseIpRoute,
      parseNetstatRn,
      parseRouteGet,
      parseRoutePrint,
    ]
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.constantFrom(...parsers), (text, parse) => {
        for (const r of parse(text)) expect(r.gateway).toMatch(/^[0-9a-f.:]+(%.+)?$/i)
      }),
    )
  })
})

describe('defaultRoutes(): one function on every OS', () => {
  const files: Record<string, string> = {
    '/proc/net/route': fixture('linux-proc-net-route.txt'),
    '/proc/net/ipv6_route': fixture('linux-proc-net-ipv6_route.txt'),
  }
  const commands: Record<string, string> = {
    'netstat -rn': fixture('macos-netstat-rn.txt'),
    'route print': fixture('windows-route-print.txt'),
    'ip -4 route show default': fixture('linux-ip-route-default.txt'),
    'ip -6 route show default': fixture('linux-ip6-route-default.txt'),
  }
  const run = async (file: string, args: string[]) => {
    const out = commands[[file, ...args].join(' ')]
    if (out === undefined) throw new Error(`ENOENT ${file}`)
    return out
  }
  const readFile = async (path: string) => {
    const out = files[path]
    if (out === undefined) throw new Error(`ENOENT ${path}`)
    return out
  }

  it('Linux: gateway, interface and our address on it, IPv4 first; `ip route` when /proc is not readable', async () => {
    const interfaces = {
      lo: [{ ...v4('127.0.0.1', '255.0.0.0'), internal: true }],
      wlp2s0: [v4('192.168.1.23'), v6('fe80::1c2:3ff:fe04:506', 3), v6('2001:db8:1234::23')],
    }
    const expected = [
      { family: 4, gateway: '192.168.1.1', iface: 'wlp2s0', localAddress: '192.168.1.23' },
      {
        family: 6,
        gateway: 'fe80::a691:b1ff:fe11:2233%wlp2s0',
        iface: 'wlp2s0',
        localAddress: '2001:db8:1234::23',
      },
    ]
    expect(await defaultRoutes({ platform: 'linux', readFile, run, interfaces })).toEqual(expected)
    const noProc = async () => {
      throw new Error('EACCES')
    }
    const viaIp = await defaultRoutes({ platform: 'linux', readFile: noProc, run, interfaces })
    expect(viaIp[0]).toEqual(expected[0])
    expect(await defaultGateways({ platform: 'linux', readFile, run, interfaces })).toEqual([
      { iface: 'wlp2s0', gateway: '192.168.1.1' },
    ])
  })

  it('macOS: from netstat -rn, a VPN interface without an address keeps no local address', async () => {
    const interfaces = { en0: [v4('192.168.1.23'), v6('fe80::1', 6)], utun3: [] }
    expect(await defaultRoutes({ platform: 'darwin', readFile, run, interfaces })).toEqual([
      { family: 4, gateway: '192.168.1.1', iface: 'en0', localAddress: '192.168.1.23' },
      { family: 6, gateway: 'fe80::a691:b1ff:fe11:2233%en0', iface: 'en0', localAddress: 'fe80::1' },
      { family: 6, gateway: 'fe80::%utun0', iface: 'utun0' },
    ])
  })

  it('Windows: route print names the interface by address (IPv4) and index (IPv6)', async () => {
    const interfaces = {
      'Wi-Fi': [v4('192.168.1.42'), v6('2001:db8:1234::42', 12)],
      Ethernet: [v4('10.0.0.7')],
    }
    expect(await defaultRoutes({ platform: 'win32', readFile, run, interfaces })).toEqual([
      { family: 4, gateway: '10.0.0.1', iface: 'Ethernet', localAddress: '10.0.0.7' },
      { family: 4, gateway: '192.168.1.1', iface: 'Wi-Fi', localAddress: '192.168.1.42' },
      {
        family: 6,
        gateway: 'fe80::a691:b1ff:fe11:2233%12',
        iface: 'Wi-Fi',
        localAddress: '2001:db8:1234::42',
      },
    ])
  })

  it('gives [] (never throws) when the OS tells nothing or is unknown', async () => {
    const fail = async () => {
      throw new Error('ENOENT')
    }
    expect(await defaultRoutes({ platform: 'darwin', readFile: fail, run: fail, interfaces: {} })).toEqual([])
    expect(await defaultRoutes({ platform: 'aix', readFile, run, interfaces: {} })).toEqual([])
  })

  it('reads this machine (Linux here) without error', async () => {
    const routes = await defaultRoutes()
    for (const r of routes) expect([4, 6]).toContain(r.family)
  })
})
