import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLab, type Lab, labReadiness, type UpnpMode } from '../src/index.js'
import { observe, probe } from './helpers.js'

const ready = await labReadiness()

/** the reference clients: `upnpc` (miniupnpc) and `natpmpc` (libnatpmp) */
async function mapWithUpnpc(lab: Lab, host: string, router: string, internal: number, external: number) {
  const r = lab.router(router)
  const res = await lab.exec(host, [
    'upnpc',
    '-u',
    r.upnpUrl ?? '',
    '-e',
    'netlab test',
    '-a',
    lab.host(host).ip,
    String(internal),
    String(external),
    'TCP',
  ])
  expect(res.stdout).toMatch(
    new RegExp(`external ${r.wanIp.replaceAll('.', '\\.')}:${external} TCP is redirected`),
  )
}

async function mapWithNatpmpc(lab: Lab, host: string, router: string, internal: number, external: number) {
  const res = await lab.exec(host, [
    'natpmpc',
    '-g',
    lab.router(router).lanIp,
    '-a',
    String(external),
    String(internal),
    'tcp',
    '3600',
  ])
  expect(res.stdout).toMatch(
    new RegExp(`Mapped public port ${external} protocol TCP to local port ${internal}`),
  )
}

const cases: Array<{ mode: UpnpMode; clients: Array<'upnpc' | 'natpmpc'> }> = [
  { mode: 'igd2+natpmp', clients: ['upnpc', 'natpmpc'] },
  { mode: 'igd2', clients: ['upnpc'] },
  { mode: 'igd1', clients: ['upnpc'] },
  { mode: 'natpmp', clients: ['natpmpc'] },
]

describe.skipIf(!ready.ok)('miniupnpd in a router maps ports for the reference clients', () => {
  let lab: Lab
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { server: {} },
      routers: {
        r0: { nat: 'cone', upnp: 'igd2+natpmp' },
        r1: { nat: 'cone', upnp: 'igd2' },
        r2: { nat: 'cone', upnp: 'igd1' },
        r3: { nat: 'cone', upnp: 'natpmp' },
      },
      hosts: { h0: { router: 'r0' }, h1: { router: 'r1' }, h2: { router: 'r2' }, h3: { router: 'r3' } },
    })
  })
  afterAll(async () => {
    await lab?.close()
  })

  cases.forEach(({ mode, clients }, i) => {
    for (const client of clients) {
      it(`${mode}: ${client} maps a port and the internet host reaches the host behind it`, async () => {
        const host = `h${i}`
        const router = `r${i}`
        const { proc, port } = await observe(lab, host)
        const external = client === 'upnpc' ? 30_000 + i : 31_000 + i
        if (client === 'upnpc') await mapWithUpnpc(lab, host, router, port, external)
        else await mapWithNatpmpc(lab, host, router, port, external)

        const mappings = await lab.upnpMappings(router)
        expect(mappings).toContainEqual(
          expect.objectContaining({
            protocol: 'TCP',
            externalPort: external,
            internalIp: lab.host(host).ip,
            internalPort: port,
          }),
        )
        const r = await probe(lab, 'server', lab.router(router).wanIp, external)
        expect(r).toMatchObject({ ok: true, ip: lab.host('server').ip })
        await proc.waitForLine(new RegExp(`^CONN ${lab.host('server').ip.replaceAll('.', '\\.')} \\d+$`))
        proc.kill()
        await proc.exited
      })
    }
  })

  it('igd1 serves the v1 device description and igd2 the v2 one', async () => {
    const get = (host: string, url: string) =>
      lab.exec(host, [
        process.execPath,
        '-e',
        `fetch(${JSON.stringify(url)}).then((r) => r.text()).then(console.log)`,
      ])
    const v1 = await get('h2', lab.router('r2').upnpUrl ?? '')
    const v2 = await get('h1', lab.router('r1').upnpUrl ?? '')
    expect(v1.stdout).toMatch(/urn:schemas-upnp-org:device:InternetGatewayDevice:1/)
    expect(v1.stdout).not.toMatch(/WANIPConnection:2/)
    expect(v2.stdout).toMatch(/urn:schemas-upnp-org:device:InternetGatewayDevice:2/)
    expect(v2.stdout).toMatch(/urn:schemas-upnp-org:service:WANIPConnection:2/)
  })
})
