import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run } from '../src/command.js'
import { createLab, labReadiness, NetlabError } from '../src/index.js'
import { labTmpRoot, listNetns } from '../src/leftovers.js'
import { HELLO, observe, probe } from './helpers.js'

const ready = await labReadiness()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function rootLinks(): Promise<string[]> {
  const res = await run(['ip', '-o', 'link', 'show'])
  return res.stdout
    .split('\n')
    .map((l) => l.split(':')[1]?.trim() ?? '')
    .filter(Boolean)
    .sort()
}

/** starts fixtures/crash-lab.ts (a process with an open lab) and resolves with its lab's prefix */
async function crashLab() {
  const script = fileURLToPath(new URL('./fixtures/crash-lab.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const prefix = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (s: string) => {
      const m = /^PREFIX (\S+)/m.exec(s)
      if (m?.[1]) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`crash-lab exited early (${code})`)))
  })
  return { child, prefix }
}

describe.skipIf(!ready.ok)('lab lifecycle', () => {
  it('spawnNode runs a TypeScript file with tsx inside the namespace; lines, waitForLine, kill', async () => {
    await using lab = await createLab({ publicHosts: { p: {} } })
    const proc = lab.spawnNode('p', HELLO, ['from', 'the lab'])
    expect(await proc.waitForLine(/^hello/)).toBe('hello from the lab')
    const ns = await run(['ip', 'netns', 'identify', String(proc.pid)])
    expect(ns.stdout.trim()).toBe(lab.host('p').ns)
    proc.kill()
    expect(await proc.exited).toEqual({ code: null, signal: 'SIGTERM' })
    const lines: string[] = []
    for await (const l of proc.lines) lines.push(l)
    expect(lines).toEqual(['hello from the lab'])
    await expect(proc.waitForLine(/never/)).rejects.toMatchObject({ code: 'ERR_PROCESS_EXITED' })
  })

  it('close() leaves no namespace, link, process or file behind; it is idempotent', async () => {
    const linksBefore = await rootLinks()
    const lab = await createLab({
      publicHosts: { server: {} },
      routers: {
        outer: { nat: 'cone', upnp: 'igd2+natpmp' },
        inner: { nat: 'symmetric', behind: 'outer', upnp: 'natpmp' },
      },
      hosts: { a: { router: 'inner' }, b: { router: 'outer' } },
    })
    // while it runs: its namespaces exist, the root namespace got no new link
    const names = (await listNetns()).filter((n) => n.startsWith(`${lab.prefix}-`))
    expect(names.sort()).toEqual(
      ['internet', 'server', 'outer', 'inner', 'a', 'b'].map((n) => `${lab.prefix}-${n}`).sort(),
    )
    expect(await rootLinks()).toEqual(linksBefore)
    const sleeper = lab.spawn('a', ['sh', '-c', 'echo up; exec sleep 1000'])
    await sleeper.waitForLine(/^up$/) // it runs in the namespace now
    const inNs = (
      await Promise.all(names.map(async (ns) => (await run(['ip', 'netns', 'pids', ns])).stdout.split(/\s+/)))
    )
      .flat()
      .filter(Boolean)
      .map(Number)
    expect(inNs).toContain(sleeper.pid)
    expect(inNs.length).toBeGreaterThanOrEqual(3) // sleep + two miniupnpd
    expect(existsSync(join(labTmpRoot(), lab.prefix))).toBe(true)

    await Promise.all([lab.close(), lab.close()])
    await lab.close()
    expect((await listNetns()).filter((n) => n.startsWith(`${lab.prefix}-`))).toEqual([])
    expect(inNs.filter(alive)).toEqual([])
    expect(await rootLinks()).toEqual(linksBefore)
    expect(existsSync(join(labTmpRoot(), lab.prefix))).toBe(false)
    expect(() => lab.spawn('a', ['true'])).toThrow(NetlabError)
    await expect(lab.exec('a', ['true'])).rejects.toMatchObject({ code: 'ERR_LAB_CLOSED' })
  })

  it('a process that exits without close() takes its labs along (exit hook)', async () => {
    const script = fileURLToPath(new URL('./fixtures/crash-lab.ts', import.meta.url))
    const res = spawnSync(process.execPath, ['--import', 'tsx', script, 'exit'], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(res.status).toBe(0)
    const prefix = /^PREFIX (\S+)/m.exec(res.stdout)?.[1] ?? 'missing'
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    expect(existsSync(join(labTmpRoot(), prefix))).toBe(false)
  })

  it('SIGTERM (how vitest ends its workers) still removes the labs, and the process still ends', async () => {
    const { child, prefix } = await crashLab()
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    child.kill('SIGTERM')
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' })
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    expect(existsSync(join(labTmpRoot(), prefix))).toBe(false)
  })

  it('a later start removes what the lab of a killed process left behind', async () => {
    const { child, prefix } = await crashLab()
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL') // no handler runs: its namespaces stay
    await exited
    expect((await listNetns()).some((n) => n.startsWith(`${prefix}-`))).toBe(true)

    await using lab = await createLab({ publicHosts: { p: {} } })
    expect(lab.prefix).not.toBe(prefix)
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    expect(existsSync(join(labTmpRoot(), prefix))).toBe(false)
  })

  it('exec: exit code and output, input, timeout and abort', async () => {
    await using lab = await createLab({ publicHosts: { p: {} } })
    expect(await lab.exec('p', ['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in' })).toEqual({
      code: 3,
      stdout: 'in',
      stderr: 'err\n',
    })
    await expect(lab.exec('p', ['sleep', '100'], { timeout: 200 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    })
    const ac = new AbortController()
    const pending = lab.exec('p', ['sleep', '100'], { signal: ac.signal })
    ac.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await expect(lab.exec('nobody', ['true'])).rejects.toMatchObject({ code: 'ERR_UNKNOWN_NODE' })
  })
})

describe.skipIf(!ready.ok)('createLab aborted, and labs of the CLI', () => {
  it('an aborted createLab rejects with ERR_ABORTED and leaves nothing', async () => {
    const mine = async () => (await listNetns()).filter((n) => n.startsWith(`nl${process.pid}-`))
    const before = await mine()
    for (const when of ['before the call', 'right after the call'] as const) {
      const ac = new AbortController()
      if (when === 'before the call') ac.abort()
      const pending = createLab(
        { routers: { r: { nat: 'cone', upnp: 'igd2+natpmp' } }, hosts: { h: { router: 'r' } } },
        { signal: ac.signal },
      )
      if (when === 'right after the call') queueMicrotask(() => ac.abort())
      await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
      expect(await mine()).toEqual(before)
    }
  })

  it('`lab up` leaves a lab running after the command exits (miniupnpd included); `lab down` removes it', async () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
    const name = `test${process.pid}`
    const lab = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 30_000 })
    const up = lab('up', 'cone-upnp', '--as', name, '--json')
    expect(up.status).toBe(0)
    const info = JSON.parse(up.stdout) as {
      prefix: string
      routers: Array<{ name: string; upnpUrl?: string }>
    }
    expect(info.prefix).toBe(`nlcli-${name}`)
    try {
      const url = info.routers.find((r) => r.name === 'r1')?.upnpUrl ?? ''
      const mapped = await run([
        'ip',
        'netns',
        'exec',
        `nlcli-${name}-alice`,
        'upnpc',
        '-u',
        url,
        '-a',
        '10.1.0.2',
        '4000',
        '4000',
        'TCP',
      ])
      expect(mapped.stdout).toMatch(/is redirected to internal 10\.1\.0\.2:4000/)
      expect(lab('list').stdout).toContain(name)
    } finally {
      expect(lab('down', name).status).toBe(0)
    }
    expect((await listNetns()).filter((n) => n.startsWith(`nlcli-${name}-`))).toEqual([])
    expect(existsSync(join(labTmpRoot(), `nlcli-${name}`))).toBe(false)
  })
})

describe.skipIf(!ready.ok)('topologies', () => {
  it('double NAT: the inner host is seen at the outer router; hosts on one LAN reach each other', async () => {
    await using lab = await createLab({
      publicHosts: { server: {} },
      routers: { outer: { nat: 'cone' }, inner: { nat: 'cone', behind: 'outer' } },
      hosts: { a: { router: 'inner' }, b: { router: 'outer' }, c: { router: 'outer' } },
    })
    const { port } = await observe(lab, 'server')
    expect(await probe(lab, 'a', lab.host('server').ip, port, { localPort: 40010 })).toEqual({
      ok: true,
      ip: lab.router('outer').wanIp,
      port: 40010,
      localPort: 40010,
    })
    expect(lab.router('inner').wanIp).toMatch(/^10\.1\.0\.\d+$/)
    const onLan = await observe(lab, 'c')
    expect(await probe(lab, 'b', lab.host('c').ip, onLan.port)).toMatchObject({
      ok: true,
      ip: lab.host('b').ip,
    })
  })

  it('loss: 1 drops every forwarded packet; conntrackTimeout sets the router sysctls', async () => {
    await using lab = await createLab({
      publicHosts: { server: {} },
      routers: { lossy: { nat: 'cone', loss: 1, conntrackTimeout: 7 } },
      hosts: { a: { router: 'lossy' } },
    })
    const { port } = await observe(lab, 'server')
    expect(await probe(lab, 'a', lab.host('server').ip, port, { timeoutMs: 1000 })).toEqual({
      ok: false,
      error: 'TIMEOUT',
    })
    const res = await lab.exec('lossy', [
      'sysctl',
      '-n',
      'net.netfilter.nf_conntrack_tcp_timeout_established',
      'net.netfilter.nf_conntrack_udp_timeout',
    ])
    expect(res.stdout.split('\n').filter(Boolean)).toEqual(['7', '7'])
  })

  it('miniupnpd behind another router (private WAN) answers but refuses mappings, as in the field', async () => {
    await using lab = await createLab({
      routers: { outer: { nat: 'cone' }, inner: { nat: 'cone', behind: 'outer', upnp: 'igd2+natpmp' } },
      hosts: { a: { router: 'inner' } },
    })
    const { ip } = lab.host('a')
    const upnp = await lab.exec('a', [
      'upnpc',
      '-u',
      lab.router('inner').upnpUrl ?? '',
      '-a',
      ip,
      '4000',
      '4000',
      'TCP',
    ])
    expect(upnp.stdout).toMatch(/AddPortMapping\(4000, 4000, 10\.2\.0\.2\) failed with code 501/)
    const pmp = await lab.exec('a', [
      'natpmpc',
      '-g',
      lab.router('inner').lanIp,
      '-a',
      '4001',
      '4001',
      'tcp',
      '60',
    ])
    expect(pmp.code).not.toBe(0)
    expect(await lab.upnpMappings('inner')).toEqual([])
  })
})
