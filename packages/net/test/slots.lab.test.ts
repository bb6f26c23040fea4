/**
 * A node's inbound slots attacked from one real address block (issue 21), and a link cut (issue 19.2),
 * in a network namespace of this test's own (`nsDslots<pid>`): `10.9.9.0/24` and `fd00:9::/64` are
 * routed locally so one process binds any address of them (the attacker), the nodes listen dual-stack
 * (`::`, so IPv4 peers arrive IPv4-mapped and must count as IPv4) and the legitimate node comes from
 * 10.7.7.1. test/fixtures/slots-attack.ts runs the scenarios inside the namespace and reports them.
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ready = await labReadiness()
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const PREFIX = 'nsDslots'
const ns = `${PREFIX}${process.pid}`
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })

/** Deletes namespaces of this test's prefix (this run's, or left by a crashed one). */
function cleanup(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? ''
    if (name.startsWith(PREFIX)) ip('netns', 'del', name)
  }
}

type Report = Record<string, unknown> & { scenario?: string; error?: string; done?: boolean }
const reports = new Map<string, Report>()

describe.skipIf(!ready.ok)('inbound slots under attack from one /24 and one /64 (namespace)', () => {
  beforeAll(async () => {
    cleanup()
    ip('netns', 'add', ns)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
    for (const dev of ['v0', 'v1']) ip('-n', ns, 'link', 'set', dev, 'up')
    ip('-n', ns, 'addr', 'add', '10.7.7.1/24', 'dev', 'v0')
    ip('-n', ns, '-6', 'addr', 'add', 'fd00:7::1/64', 'dev', 'v0', 'nodad')
    ip('-n', ns, 'route', 'add', 'local', '10.9.9.0/24', 'dev', 'lo')
    ip('-n', ns, '-6', 'route', 'add', 'local', 'fd00:9::/64', 'dev', 'lo')
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.ip_nonlocal_bind=1'])
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '--import',
        'tsx',
        '--conditions=@pyp2p/source',
        'test/fixtures/slots-attack.ts',
      ],
      { cwd: pkg, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as Report
      reports.set(r.scenario ?? (r.error !== undefined ? 'error' : 'done'), r)
    })
    await once(child, 'exit', { signal: AbortSignal.timeout(120_000) })
    expect(reports.get('error')).toBeUndefined()
    expect(reports.get('done')).toBeDefined()
  }, 150_000)
  afterAll(cleanup)

  it('one /24 and one /64 hold at most their caps (ERR_PEER_FULL after); IPv4-mapped counts as IPv4; a legit node exchanges a line', () => {
    const r = reports.get('caps') as {
      fromV4: string[]
      fromV6: string[]
      legit: { ok: boolean; seenFrom: string; got: string; back: string }
      hosts: string[]
      silentClosed: number
    }
    expect(r.fromV4.slice(0, 3)).toEqual(['OK', 'OK', 'OK'])
    for (const x of r.fromV4.slice(3)) expect(x).toMatch(/^ERR_PEER_FULL: .*network 10\.9\.9\.0\/24 holds 3/)
    expect(r.fromV6.slice(0, 3)).toEqual(['OK', 'OK', 'OK'])
    for (const x of r.fromV6.slice(3)) expect(x).toMatch(/^ERR_PEER_FULL: .*fd00:9::\/64 holds 3/)
    // Eight silent sockets held every pending handshake: the newcomer closed the oldest one.
    expect(r.silentClosed).toBe(1)
    expect(r.legit).toEqual({ ok: true, seenFrom: '::ffff:10.7.7.1', got: 'legit line', back: 'welcome' })
    expect(r.hosts).toHaveLength(7)
  })

  it('full of idle connections from the /24: the newcomer evicts the longest silent one', () => {
    const r = reports.get('evict') as {
      attack: string[]
      legit: { ok: boolean }
      evicted: string
      hosts: string[]
    }
    expect(r.attack).toEqual(['OK', 'OK', 'OK', 'OK'])
    expect(r.legit.ok).toBe(true)
    expect(r.evicted).toBe('10.9.9.40')
    expect(r.hosts).toEqual(['::ffff:10.9.9.41', '::ffff:10.9.9.42', '::ffff:10.9.9.43', '::ffff:10.7.7.1'])
  })

  it('a full node refuses the legit node with ERR_PEER_FULL, shown in its connect report', () => {
    const r = reports.get('full') as { attack: string[]; legit: { ok: boolean; firstAttempt: string } }
    expect(r.attack).toEqual(['OK', 'OK'])
    expect(r.legit).toMatchObject({ ok: false, firstAttempt: 'ERR_PEER_FULL' })
  })

  it('a link cut: disconnect by the keep-alive; sendLine then throws ERR_CONNECTION_CLOSED <- ERR_KEEPALIVE_TIMEOUT', () => {
    expect(reports.get('cut')).toMatchObject({
      leftFrom: '::ffff:10.9.9.77',
      closeError: 'ERR_KEEPALIVE_TIMEOUT',
      sendError: 'ERR_CONNECTION_CLOSED <- ERR_KEEPALIVE_TIMEOUT',
    })
  })
})
