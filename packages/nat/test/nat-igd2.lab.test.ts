// miniupnpd in its default mode (UPnP IGD v2 + NAT-PMP), the case plain nat-upnp fails on.
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import config from '../tsup.config.js'
import {
  AGENT,
  ALL_PROTOCOLS,
  CLI,
  connectFrom,
  events,
  runAgent,
  upnpcList,
  WAIT,
  waitEvent,
} from './helpers/lab.js'

const ready = await labReadiness()
/** This file tests UPnP IGD v2: the client is told to map with it (the default prefers PCP). */
const UPNP = { methods: ['upnp'] }

describe.skipIf(!ready.ok)(
  'UPnP IGD v2 + NAT-PMP router (miniupnpd)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: {
          r1: { nat: 'cone', upnp: 'igd2+natpmp' },
          r2: { nat: 'cone', upnp: 'igd2+natpmp', behind: 'r1' },
        },
        hosts: { alice: { router: 'r1' }, bob: { router: 'r1' }, carol: { router: 'r2' } },
      })
    })
    afterAll(() => lab?.close())

    it('discovers the gateway speaking PCP, NAT-PMP and IGD v2 (grace long enough for SSDP)', async () => {
      const [ev] = await runAgent(lab, 'alice', ['discover', JSON.stringify({ grace: 10_000 })])
      expect(ev?.event).toBe('gateways')
      expect(ev?.gateways).toEqual([
        expect.objectContaining({
          address: lab.router('r1').lanIp,
          localAddress: lab.host('alice').ip,
          protocols: ['pcp', 'natpmp', 'upnp-igd2'],
          natpmp: expect.objectContaining({ externalAddress: lab.router('r1').wanIp }),
        }),
      ])
    })

    it('maps, forwards from the internet, shows in upnpc -l, renews a short lease twice, unmaps', async () => {
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ client: UPNP, map: { ttl: 4, description: 'pyp2p-igd2-test' } }),
      ])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({
          method: 'upnp',
          externalAddress: lab.router('r1').wanIp,
          internalAddress: lab.host('alice').ip,
          ttl: 4,
        })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        expect(await upnpcList(lab, 'alice', 'r1')).toMatch(
          new RegExp(
            `TCP\\s+${mapping.externalPort}->${lab.host('alice').ip}:${mapping.internalPort}\\s+'pyp2p-igd2-test'`,
          ),
        )
        await waitEvent(p, 'renewed', 2)
        expect(events(p, 'mapping-error')).toEqual([])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        p.kill('SIGUSR2')
        await waitEvent(p, 'unmapped')
        expect(await upnpcList(lab, 'alice', 'r1')).not.toMatch(/pyp2p-igd2-test/)
        expect(await lab.upnpMappings('r1')).toEqual([])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toMatch(
          /^failed/,
        )
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
    })

    it('a child killed with SIGTERM leaves no mapping behind', async () => {
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ client: UPNP, map: { ttl: 3600, description: 'pyp2p-sigterm' } }),
      ])
      const { mapping } = await waitEvent(p, 'mapped')
      expect(await lab.upnpMappings('r1')).toEqual([
        expect.objectContaining({ externalPort: mapping.externalPort, description: 'pyp2p-sigterm' }),
      ])
      p.kill('SIGTERM')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('takes another port when the external port is mapped to another host, or fails with ERR_PORT_IN_USE', async () => {
      const bob = lab.host('bob').ip
      const taken = await lab.exec(
        'bob',
        ['upnpc', '-u', lab.router('r1').upnpUrl!, '-e', 'bob', '-a', bob, '40000', '40000', 'TCP', '600'],
        { timeout: WAIT },
      )
      expect(taken.code).toBe(0)
      try {
        const p = lab.spawnNode('alice', AGENT, [
          'hold',
          JSON.stringify({ client: UPNP, map: { externalPort: 40000, ttl: 600 } }),
        ])
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping.externalPort).not.toBe(40000)
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        p.kill('SIGTERM')
        await p.exited
        const q = lab.spawnNode('alice', AGENT, [
          'hold',
          JSON.stringify({ client: UPNP, map: { externalPort: 40000, exactExternalPort: true } }),
        ])
        const err = await waitEvent(q, 'error')
        expect(err).toMatchObject({ code: 'ERR_PORT_IN_USE' })
        await q.exited
      } finally {
        await lab.exec('bob', ['upnpc', '-u', lab.router('r1').upnpUrl!, '-d', '40000', 'TCP'], {
          timeout: WAIT,
        })
      }
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('behind a second router: a typed warning, not a crash (miniupnpd hides its private WAN address)', async () => {
      const evs = await runAgent(lab, 'carol', ['status', ALL_PROTOCOLS])
      expect(evs.find((e) => e.event === 'gateways')?.gateways).toEqual([
        expect.objectContaining({
          protocols: expect.arrayContaining(['natpmp']),
          natpmp: expect.objectContaining({ externalAddress: null }),
        }),
      ])
      expect(evs.find((e) => e.event === 'external')?.external).toMatchObject({
        address: null,
        private: true,
      })
      expect(evs.filter((e) => e.event === 'warning')).toEqual([
        expect.objectContaining({ warning: expect.objectContaining({ code: 'NO_EXTERNAL_ADDRESS' }) }),
      ])
      expect(evs.filter((e) => e.event === 'error')).toEqual([])
    })

    it('CLI: status, map --no-hold, list, unmap (--json)', async () => {
      const cli = async (...args: string[]) => {
        const p = lab.spawnNode('alice', CLI, [...args, '--json'])
        const exit = await p.exited
        return {
          exit,
          lines: events(p as never).length
            ? events(p)
            : p
                .stdout()
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l)),
        }
      }
      const status = await cli('status')
      expect(status.exit.code).toBe(0)
      expect(status.lines[0].gateway.protocols).toEqual(expect.arrayContaining(['pcp', 'natpmp']))
      const mapped = await cli(
        'map',
        '45678',
        '--no-hold',
        '--ttl',
        '600',
        '--description',
        'pyp2p-cli',
        '--method',
        'upnp',
      )
      expect(mapped.exit.code).toBe(0)
      expect(mapped.lines[0].mapping).toMatchObject({
        internalPort: 45678,
        externalPort: 45678,
        description: 'pyp2p-cli',
      })
      const list = await cli('list')
      expect(list.lines.map((l) => l.entry)).toEqual([
        expect.objectContaining({ externalPort: 45678, description: 'pyp2p-cli' }),
      ])
      const unmapped = await cli('unmap', '45678')
      expect(unmapped.exit.code).toBe(0)
      expect(await lab.upnpMappings('r1')).toEqual([])
      const again = await cli('unmap', '45678')
      expect(again.exit.code).toBe(1)
      expect(again.lines[0].error).toMatchObject({ code: 'ERR_NOT_MAPPED' })
    })

    it('CLI: map holds the mapping until Ctrl-C, then removes it and exits by SIGINT', async () => {
      const p = lab.spawnNode('alice', CLI, ['map', '45680', '--ttl', '600', '--json', '--method', 'upnp'])
      const line = await p.waitForLine(/"mapping"/, { timeout: WAIT })
      expect(JSON.parse(line).mapping).toMatchObject({ externalPort: 45680 })
      expect(await lab.upnpMappings('r1')).toEqual([expect.objectContaining({ externalPort: 45680 })])
      p.kill('SIGINT')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGINT' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('the bundled build (what `npm install @pyp2p/nat` gets: patched nat-upnp inside) maps against IGD v2', async () => {
      // Built here, not taken from dist/, so the test never runs a stale build.
      const pkg = fileURLToPath(new URL('..', import.meta.url))
      const outDir = `${pkg}node_modules/.cache/pyp2p-nat-bundle-test`
      await rm(outDir, { recursive: true, force: true })
      await build({
        ...(config as object),
        entry: [`${pkg}src/index.ts`, `${pkg}src/cli.ts`],
        format: ['esm'],
        dts: false,
        sourcemap: false,
        silent: true,
        outDir,
        config: false,
      })
      const run = async (...args: string[]) => {
        const r = await lab.exec('alice', [process.execPath, `${outDir}/cli.js`, ...args, '--json'], {
          timeout: WAIT,
        })
        return {
          code: r.code,
          lines: r.stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        }
      }
      const mapped = await run(
        'map',
        '45679',
        '--no-hold',
        '--ttl',
        '600',
        '--description',
        'pyp2p-bundle',
        '--method',
        'upnp',
      )
      expect(mapped.code).toBe(0)
      expect(mapped.lines[0].mapping).toMatchObject({
        method: 'upnp',
        externalPort: 45679,
        description: 'pyp2p-bundle',
      })
      expect(await upnpcList(lab, 'alice', 'r1')).toMatch(/45679->.*'pyp2p-bundle'/)
      expect((await run('unmap', '45679')).code).toBe(0)
      expect(await lab.upnpMappings('r1')).toEqual([])
      await rm(outDir, { recursive: true, force: true })
    })
  },
  120_000,
)
