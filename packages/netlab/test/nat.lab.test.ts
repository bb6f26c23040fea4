import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLab, type Lab, labReadiness } from '../src/index.js'
import { observe, probe, SIMOPEN } from './helpers.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)('NAT routers: mapping and inbound behaviour', () => {
  let lab: Lab
  const ports: Record<string, number> = {}
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { s1: {}, s2: {} },
      routers: {
        cone: { nat: 'cone', inbound: 'rst' },
        sym: { nat: 'symmetric', inbound: 'drop' },
        seq: { nat: 'sequential' },
      },
      hosts: { a: { router: 'cone' }, b: { router: 'sym' }, c: { router: 'seq' } },
    })
    for (const s of ['s1', 's2']) {
      ports[s] = (await observe(lab, s)).port
    }
  })
  afterAll(async () => {
    await lab?.close()
  })

  it('cone: keeps the source port, and the same external port towards two destinations', async () => {
    const r1 = await probe(lab, 'a', lab.host('s1').ip, ports.s1 ?? 0, { localPort: 40001 })
    const r2 = await probe(lab, 'a', lab.host('s2').ip, ports.s2 ?? 0, { localPort: 40001 })
    expect(r1).toEqual({ ok: true, ip: lab.router('cone').wanIp, port: 40001, localPort: 40001 })
    expect(r2).toEqual({ ok: true, ip: lab.router('cone').wanIp, port: 40001, localPort: 40001 })
  })

  it('symmetric: changes the port, per destination', async () => {
    const seen: number[] = []
    for (const [s, localPort] of [
      ['s1', 40002],
      ['s2', 40002],
      ['s1', 40003],
      ['s2', 40003],
    ] as const) {
      const r = await probe(lab, 'b', lab.host(s).ip, ports[s] ?? 0, { localPort })
      expect(r).toMatchObject({ ok: true, ip: lab.router('sym').wanIp })
      if (r.ok) seen.push(r.port)
    }
    // random ports: four equal ones (or all kept) would happen with probability ~ 2^-48
    expect(new Set(seen).size).toBeGreaterThan(1)
    expect(seen.filter((p) => p === 40002 || p === 40003).length).toBeLessThan(4)
  })

  it('sequential: each new mapping takes the next port', async () => {
    const seen: number[] = []
    for (const s of ['s1', 's2', 's1'] as const) {
      const r = await probe(lab, 'c', lab.host(s).ip, ports[s] ?? 0)
      expect(r).toMatchObject({ ok: true, ip: lab.router('seq').wanIp })
      if (r.ok) seen.push(r.port)
    }
    expect(seen[1]).toBe((seen[0] ?? 0) + 1)
    expect(seen[2]).toBe((seen[1] ?? 0) + 1)
  })

  it('rst: an unsolicited SYN is answered with a RST (ECONNREFUSED)', async () => {
    const r = await probe(lab, 's1', lab.router('cone').wanIp, 40100)
    expect(r).toEqual({ ok: false, error: 'ECONNREFUSED' })
  })

  it('drop: an unsolicited SYN gets no answer, and the drop rule counted it', async () => {
    const r = await probe(lab, 's1', lab.router('sym').wanIp, 40100, { timeoutMs: 1500 })
    expect(r).toEqual({ ok: false, error: 'TIMEOUT' })
    const rules = await lab.exec('sym', ['nft', 'list', 'chain', 'inet', 'filter', 'input'])
    const packets = Number(/counter packets (\d+)/.exec(rules.stdout)?.[1])
    expect(packets).toBeGreaterThan(0)
  })

  it('conntrack shows the mappings a router holds', async () => {
    await probe(lab, 'a', lab.host('s1').ip, ports.s1 ?? 0, { localPort: 40004 })
    const entries = await lab.conntrack('cone')
    expect(entries.some((l) => l.includes('sport=40004') && l.includes(`dst=${lab.host('s1').ip}`))).toBe(
      true,
    )
  })
})

describe.skipIf(!ready.ok)('TCP simultaneous open through two port-preserving NATs that drop SYNs', () => {
  it('both sides connect to each other (the kernel retransmits the SYN the other router dropped)', async () => {
    await using lab = await createLab({
      routers: { r1: { nat: 'cone', inbound: 'drop' }, r2: { nat: 'cone', inbound: 'drop' } },
      hosts: { a: { router: 'r1' }, b: { router: 'r2' } },
    })
    const side = (host: string, peerRouter: string, peerPort: number, localPort: number) =>
      lab.exec(host, [
        process.execPath,
        SIMOPEN,
        lab.router(peerRouter).wanIp,
        String(peerPort),
        String(localPort),
      ])
    const [a, b] = await Promise.all([side('a', 'r2', 40031, 40030), side('b', 'r1', 40030, 40031)])
    expect(a.stdout.trim()).toBe('OK from-40031')
    expect(b.stdout.trim()).toBe('OK from-40030')
  })
})
