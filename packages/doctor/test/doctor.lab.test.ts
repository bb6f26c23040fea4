// The doctor run behind each kind of NAT the lab builds, its JSON checked against what was built.
import { fileURLToPath } from 'node:url'
import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/report.js'

const ready = await labReadiness()
const DOCTOR = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const SERVER = fileURLToPath(new URL('../../bootstrap-server/src/bin.ts', import.meta.url))
const WAIT = 60_000
const PORT = 8000

describe.skipIf(!ready.ok)(
  'pyp2p-doctor in the NAT lab',
  () => {
    let lab: Lab
    let server: LabProcess
    let serverAt = ''
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { srv: {}, web: {} },
        routers: {
          cone: { nat: 'cone', upnp: 'igd2+natpmp' },
          sym: { nat: 'symmetric' },
          plain: { nat: 'cone' },
          inner: { nat: 'cone', upnp: 'natpmp', behind: 'cone' },
          seq: { nat: 'sequential' },
          mute: { nat: 'cone' },
          six: { nat: 'cone', upnp: 'natpmp', ipv6: true },
          six2: { nat: 'cone', upnp: 'igd2', ipv6: true },
        },
        hosts: {
          alice: { router: 'cone' },
          bob: { router: 'sym' },
          carol: { router: 'plain' },
          dave: { router: 'inner' },
          erin: { router: 'seq' },
          frank: { router: 'mute' },
          gina: { router: 'six' },
          hana: { router: 'six2' },
        },
      })
      server = lab.spawnNode('srv', SERVER, ['--host', '0.0.0.0', '--port', String(PORT)])
      await Promise.any([
        server.waitForLine(/listening on/, { timeout: WAIT }),
        server.waitForStderr(/listening on/, { timeout: WAIT }),
      ])
      serverAt = `${lab.host('srv').ip}:${PORT}`
      // A router that answers nothing on its LAN side: PCP/NAT-PMP and SSDP are dropped, not refused.
      for (const rule of [
        ['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '5351', '-j', 'DROP'],
        ['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '1900', '-j', 'DROP'],
        ['iptables', '-I', 'INPUT', '-p', 'icmp', '-j', 'DROP'],
      ]) {
        const r = await lab.exec('mute', rule)
        if (r.code !== 0) throw new Error(`${rule.join(' ')}: ${r.stderr}`)
      }
      // An IPv6 router without PCP (miniupnpd 2.3.1 answers PCP over IPv6 even with NAT-PMP off, so
      // refuse it): pinholes only by IGD v2 WANIPv6FirewallControl.
      for (const cmd of [
        ['add', 'table', 'inet', 'nopcp'],
        ['add', 'chain', 'inet', 'nopcp', 'input', '{ type filter hook input priority -10 ; }'],
        [
          'add',
          'rule',
          'inet',
          'nopcp',
          'input',
          'meta',
          'nfproto',
          'ipv6',
          'udp',
          'dport',
          '5351',
          'reject',
        ],
      ]) {
        const r = await lab.exec('six2', ['nft', ...cmd])
        if (r.code !== 0) throw new Error(`nft ${cmd.join(' ')}: ${r.stderr}`)
      }
    }, WAIT * 2)
    afterAll(async () => {
      server?.kill('SIGTERM')
      await lab?.close()
    })

    async function doctor(host: string, ...args: string[]): Promise<DoctorReport> {
      const p = lab.spawnNode(host, DOCTOR, ['--json', ...args])
      const exit = await p.exited
      if (exit.code !== 0) throw new Error(`doctor exited ${JSON.stringify(exit)}: ${p.stderr()}`)
      return JSON.parse(p.stdout()) as DoctorReport
    }

    it.concurrent('cone NAT with PCP/NAT-PMP/UPnP: direct, by a test mapping made and removed', async () => {
      const r = await doctor('alice', '--server', serverAt)
      expect(r.schema).toBe('pyp2p-doctor/1')
      expect(r.network.defaultRoutes[0]).toMatchObject({
        family: 4,
        gateway: lab.router('cone').lanIp,
        localAddress: lab.host('alice').ip,
      })
      expect(r.gateway).toMatchObject({
        address: lab.router('cone').lanIp,
        pcp: { answered: true },
        natpmp: { answered: true },
        upnp: { answered: true, version: 2 },
      })
      expect(r.mapping).toMatchObject({
        status: 'ok',
        method: 'pcp',
        externalAddress: lab.router('cone').wanIp,
        removed: true,
      })
      // the lab's routers forward mapped ports from their WAN side only: no loopback
      expect(r.mapping.hairpin).toBe('no')
      expect(r.external).toMatchObject({ differ: false, doubleNat: false, cgnat: false })
      expect(r.external.addresses.map((a) => a.source).sort()).toEqual(['natpmp', 'pcp', 'server', 'upnp'])
      expect(new Set(r.external.addresses.map((a) => a.address))).toEqual(new Set([lab.router('cone').wanIp]))
      expect(r.nat).toMatchObject({
        status: 'ok',
        mapping: 'preserving',
        filtering: 'rst',
        observed: { address: lab.router('cone').wanIp },
      })
      expect(r.verdict.reachability).toBe('direct')
      expect(r.timedOut).toEqual([])
      expect(await lab.upnpMappings('cone')).toEqual([])
    })

    it.concurrent('symmetric NAT without mapping protocols: relay only', async () => {
      const r = await doctor('bob', '--server', serverAt)
      expect(r.gateway).toMatchObject({
        pcp: { answered: false },
        natpmp: { answered: false },
        upnp: { answered: false },
      })
      expect(r.mapping.status).toBe('skipped')
      expect(r.nat).toMatchObject({ status: 'ok', mapping: 'random' })
      expect(r.verdict.reachability).toBe('relay')
    })

    it.concurrent('cone NAT without a mapping protocol (no gateway to ask): hole punching', async () => {
      const r = await doctor('carol', '--server', serverAt)
      expect(r.gateway.pcp).toMatchObject({ answered: false, error: 'ERR_GATEWAY' }) // port closed: refused at once
      expect(r.nat).toMatchObject({ mapping: 'preserving', filtering: 'rst' })
      expect(r.verdict.reachability).toBe('hole-punching')
    })

    it.concurrent('double NAT: the inner router answers but has no external address', async () => {
      const r = await doctor('dave', '--server', serverAt)
      expect(r.gateway).toMatchObject({ address: lab.router('inner').lanIp, natpmp: { answered: true } })
      expect(r.mapping.status).not.toBe('ok')
      expect(r.external.doubleNat).toBe(true)
      expect(r.nat.observed?.address).toBe(lab.router('cone').wanIp)
      expect(r.verdict.reachability).toBe('hole-punching')
    })

    it.concurrent('sequential NAT: hole punching by port prediction', async () => {
      const r = await doctor('erin', '--server', serverAt)
      expect(r.nat).toMatchObject({ mapping: 'sequential', delta: 1 })
      expect(r.verdict).toMatchObject({
        reachability: 'hole-punching',
        summary: expect.stringMatching(/prediction/),
      })
    })

    it.concurrent('IPv6: a pinhole for our own address made and removed by PCP', async () => {
      const r = await doctor('gina', '--server', serverAt)
      expect(r.network.defaultRoutes).toContainEqual(
        expect.objectContaining({
          family: 6,
          gateway: lab.router('six').lanIp6,
          localAddress: lab.host('gina').ip6,
        }),
      )
      expect(r.pinhole6).toMatchObject({
        status: 'ok',
        method: 'pcp',
        address: lab.host('gina').ip6,
        removed: true,
      })
      expect(r.verdict.reachability).toBe('direct')
      expect(r.verdict.reasons[0]).toMatch(/^Over IPv6/)
      // hosts without IPv6 skip it
      const v4only = await doctor('carol', '--no-mapping')
      expect(v4only.pinhole6.status).toBe('skipped')
    })

    it.concurrent('IPv6 without PCP: the pinhole made and removed by UPnP IGD v2 (AddPinhole)', async () => {
      const r = await doctor('hana')
      expect(r.pinhole6).toMatchObject({
        status: 'ok',
        method: 'upnp',
        address: lab.host('hana').ip6,
        removed: true,
      })
      expect(r.verdict.reasons[0]).toMatch(/^Over IPv6/)
    })

    it.concurrent('a network that answers nothing: every check bounded, the ones that timed out named', async () => {
      // nothing listens at this internet address: the server check runs out of time too
      const r = await doctor('frank', '--server', `${lab.host('web').ip}:9`)
      expect(r.timedOut).toEqual(expect.arrayContaining(['pcp', 'natpmp', 'upnp']))
      expect(r.nat.status).not.toBe('ok')
      expect(r.verdict.reachability).toBe('unknown')
      expect(r.checks.every((c) => ['ok', 'failed', 'timeout', 'skipped'].includes(c.status))).toBe(true)
    })
  },
  WAIT * 3,
)
