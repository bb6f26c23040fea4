// The README's example, kept running (only the import differs).
import { expect, it } from 'vitest'
import { createLab, labReadiness } from '../src/index.js'

const js = (code: string) => [process.execPath, '-e', code]
const server = "require('net').createServer((s) => s.end('hi')).listen(4000, () => console.log('up'))"

it.skipIf(!(await labReadiness()).ok)('a UPnP-mapped port is reachable from the internet', async () => {
  await using lab = await createLab({
    publicHosts: { server: {} }, // 11.0.0.10
    routers: { r1: { nat: 'cone', inbound: 'drop', upnp: 'igd2+natpmp' } }, // WAN 11.0.0.100
    hosts: { alice: { router: 'r1' } }, // 10.1.0.2
  })
  await lab.spawn('alice', js(server)).waitForLine(/^up$/)
  const { upnpUrl = '', wanIp } = lab.router('r1')
  await lab.exec('alice', ['upnpc', '-u', upnpUrl, '-a', lab.host('alice').ip, '4000', '4000', 'TCP'])
  expect(await lab.upnpMappings('r1')).toMatchObject([{ externalPort: 4000, internalPort: 4000 }])
  const res = await lab.exec('server', js(`require('net').connect(4000, '${wanIp}').pipe(process.stdout)`))
  expect(res.stdout).toBe('hi')
}) // `await using` closed the lab: its namespaces, processes and files are gone
