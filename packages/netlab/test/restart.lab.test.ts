// lab.restartUpnp: a router's miniupnpd restarted as a reboot would, its mappings gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../src/command.js'
import { createLab, type Lab, labReadiness } from '../src/index.js'
import { observe, probe } from './helpers.js'

const ready = await labReadiness()

/** PIDs of the miniupnpd processes running in a router's namespace */
async function miniupnpdPids(lab: Lab, router: string): Promise<number[]> {
  const ns = await run(['ip', 'netns', 'pids', lab.router(router).ns])
  const pids = ns.stdout.split(/\s+/).filter(Boolean)
  const out: number[] = []
  for (const pid of pids) {
    const comm = await run(['cat', `/proc/${pid}/comm`])
    if (comm.stdout.trim() === 'miniupnpd') out.push(Number(pid))
  }
  return out
}

async function upnpcAdd(lab: Lab, host: string, router: string, internal: number, external: number) {
  const r = lab.router(router)
  const res = await lab.exec(host, [
    'upnpc',
    '-u',
    r.upnpUrl ?? '',
    '-e',
    'netlab restart',
    '-a',
    lab.host(host).ip,
    String(internal),
    String(external),
    'TCP',
    '600',
  ])
  expect(res.stdout).toMatch(new RegExp(`external ${r.wanIp.replaceAll('.', '\\.')}:${external} TCP`))
}

async function natpmpcAdd(lab: Lab, host: string, router: string, internal: number, external: number) {
  const res = await lab.exec(host, [
    'natpmpc',
    '-g',
    lab.router(router).lanIp,
    '-a',
    String(external),
    String(internal),
    'tcp',
    '600',
  ])
  expect(res.stdout).toMatch(`Mapped public port ${external} protocol TCP to local port ${internal}`)
}

/** natpmpc's view of the gateway: its public address and epoch (seconds since its start) */
async function natpmpStatus(lab: Lab, host: string, router: string) {
  const res = await lab.exec(host, ['natpmpc', '-g', lab.router(router).lanIp])
  return {
    address: /Public IP address : (\S+)/.exec(res.stdout)?.[1],
    epoch: Number(/epoch = (\d+)/.exec(res.stdout)?.[1] ?? Number.NaN),
  }
}

/** miniupnpd's rules in the router's nft chains (the lab's ruleset puts none there) */
async function upnpRules(lab: Lab, router: string): Promise<string[]> {
  const chains = [
    ['filter', 'miniupnpd'],
    ['nat', 'prerouting_miniupnpd'],
    ['nat', 'postrouting_miniupnpd'],
  ]
  const out: string[] = []
  for (const [table, chain] of chains) {
    const res = await lab.exec(router, ['nft', 'list', 'chain', 'inet', table ?? '', chain ?? ''])
    expect(res.code).toBe(0)
    out.push(...res.stdout.split('\n').filter((l) => /dport|dnat|snat|accept/.test(l)))
  }
  return out
}

describe.skipIf(!ready.ok)('lab.restartUpnp', () => {
  let lab: Lab
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { server: {} },
      routers: {
        r0: { nat: 'cone', upnp: 'igd2+natpmp' },
        r1: { nat: 'cone', upnp: 'natpmp' },
        r2: { nat: 'cone' },
      },
      hosts: { h0: { router: 'r0' }, h1: { router: 'r1' }, h2: { router: 'r2' } },
    })
  })
  afterAll(async () => {
    await lab?.close()
  })

  it('loses every mapping (UPnP and NAT-PMP), restarts the daemon, which serves again', async () => {
    const o0 = await observe(lab, 'h0')
    const o1 = await observe(lab, 'h1')
    await upnpcAdd(lab, 'h0', 'r0', o0.port, 30_000)
    await natpmpcAdd(lab, 'h0', 'r0', 40_000, 30_001) // NAT-PMP maps one external port per internal one
    await natpmpcAdd(lab, 'h1', 'r1', o1.port, 31_000)
    expect(await lab.upnpMappings('r0')).toHaveLength(2)
    expect(await lab.upnpMappings('r1')).toHaveLength(1)
    expect(await upnpRules(lab, 'r0')).not.toEqual([])
    const wan0 = lab.router('r0').wanIp
    const wan1 = lab.router('r1').wanIp
    expect(await probe(lab, 'server', wan0, 30_000)).toMatchObject({ ok: true })
    expect(await probe(lab, 'server', wan1, 31_000)).toMatchObject({ ok: true })
    const before = { r0: await miniupnpdPids(lab, 'r0'), r1: await miniupnpdPids(lab, 'r1') }
    expect(before.r0).toHaveLength(1)
    expect(before.r1).toHaveLength(1)

    const restartedAt = performance.now()
    await Promise.all([lab.restartUpnp('r0'), lab.restartUpnp('r1')])

    // the mappings are gone: from miniupnpd's table, from netfilter, from the internet's view
    expect(await lab.upnpMappings('r0')).toEqual([])
    expect(await lab.upnpMappings('r1')).toEqual([])
    expect(await upnpRules(lab, 'r0')).toEqual([])
    expect(await upnpRules(lab, 'r1')).toEqual([])
    for (const [ip, port] of [
      [wan0, 30_000],
      [wan0, 30_001],
      [wan1, 31_000],
    ] as const) {
      expect(await probe(lab, 'server', ip, port)).toEqual({ ok: false, error: 'ECONNREFUSED' })
    }
    // another process, the old one gone
    const after = { r0: await miniupnpdPids(lab, 'r0'), r1: await miniupnpdPids(lab, 'r1') }
    expect(after.r0).toHaveLength(1)
    expect(after.r1).toHaveLength(1)
    expect(after.r0).not.toEqual(before.r0)
    expect(after.r1).not.toEqual(before.r1)
    // it answers at the same addresses; the NAT-PMP epoch counts from the new start, so it cannot
    // exceed the seconds since restartUpnp was called (the machine's uptime, which miniupnpd reports
    // with system_uptime=yes, would)
    const list = await lab.exec('h0', ['upnpc', '-u', lab.router('r0').upnpUrl ?? '', '-l'])
    expect(list.stdout).toContain(`ExternalIPAddress = ${wan0}`)
    expect(list.stdout).not.toMatch(/\d+->10\./)
    const status = await natpmpStatus(lab, 'h1', 'r1')
    expect(status.address).toBe(wan1)
    expect(status.epoch).toBeLessThanOrEqual(Math.ceil((performance.now() - restartedAt) / 1000))
    // and maps again
    await upnpcAdd(lab, 'h0', 'r0', o0.port, 30_000)
    await natpmpcAdd(lab, 'h1', 'r1', o1.port, 31_000)
    expect(await probe(lab, 'server', wan0, 30_000)).toMatchObject({ ok: true })
    expect(await probe(lab, 'server', wan1, 31_000)).toMatchObject({ ok: true })
    for (const o of [o0, o1]) {
      o.proc.kill()
      await o.proc.exited
    }
  })

  it('restarts of one router run one after the other; one daemon is left', async () => {
    const before = await miniupnpdPids(lab, 'r1')
    await Promise.all([lab.restartUpnp('r1'), lab.restartUpnp('r1'), lab.restartUpnp('r1')])
    const after = await miniupnpdPids(lab, 'r1')
    expect(after).toHaveLength(1)
    expect(after).not.toEqual(before)
    expect((await natpmpStatus(lab, 'h1', 'r1')).address).toBe(lab.router('r1').wanIp)
  })

  it('rejects: a router without miniupnpd, a host, an unknown name, an aborted signal', async () => {
    await expect(lab.restartUpnp('r2')).rejects.toMatchObject({ code: 'ERR_NO_UPNP' })
    await expect(lab.restartUpnp('h0')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_NODE' })
    await expect(lab.restartUpnp('nope')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_NODE' })
    const before = await miniupnpdPids(lab, 'r0')
    await expect(lab.restartUpnp('r0', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
    expect(await miniupnpdPids(lab, 'r0')).toEqual(before) // an aborted restart touched nothing
  })

  it('a persistent lab (detached daemons, as `npm run lab -- up` makes them) restarts too', async () => {
    const kept = await createLab({ routers: { r: { nat: 'cone', upnp: 'natpmp' } } }, { persistent: true })
    try {
      const before = await miniupnpdPids(kept, 'r')
      await kept.restartUpnp('r')
      const after = await miniupnpdPids(kept, 'r')
      expect(after).toHaveLength(1)
      expect(after).not.toEqual(before)
    } finally {
      await kept.close()
    }
  })

  it('a closed lab refuses; close() stops the restarted daemon', async () => {
    const small = await createLab({ routers: { r: { nat: 'cone', upnp: 'natpmp' } } })
    await small.restartUpnp('r')
    const [pid] = await miniupnpdPids(small, 'r')
    expect(pid).toBeDefined()
    await small.close()
    expect(() => process.kill(pid ?? -1, 0)).toThrow()
    await expect(small.restartUpnp('r')).rejects.toMatchObject({ code: 'ERR_LAB_CLOSED' })
  })
})
