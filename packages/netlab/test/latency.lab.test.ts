/**
 * `latencyMs` on a router: everything arriving on its WAN side waits that long before the router sees
 * it. Checked as lower bounds (a held packet cannot arrive early): a host behind the router connects to
 * a public host no sooner than the latency (the SYN-ACK waits at the router), and an unsolicited SYN to
 * the router gets its RST no sooner either (the SYN waits). The same two through a router beside it
 * without latency are the control: they take less than the latency.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLab, type Lab, labReadiness } from '../src/index.js'
import { observe } from './helpers.js'

const TIMED = fileURLToPath(new URL('./fixtures/tcp-timed.mjs', import.meta.url))
const LATENCY_MS = 400
const ready = await labReadiness()

describe.skipIf(!ready.ok)('router latency (latencyMs)', () => {
  let lab: Lab
  let port = 0
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { p: {} },
      routers: {
        slow: { nat: 'cone', inbound: 'rst', latencyMs: LATENCY_MS },
        fast: { nat: 'cone', inbound: 'rst' },
      },
      hosts: { a: { router: 'slow' }, b: { router: 'fast' } },
    })
    port = (await observe(lab, 'p')).port
  }, 60_000)
  afterAll(async () => {
    await lab?.close()
  })

  /** `OK <ms>` or `ERR <code> <ms>` of one connection from `where`. */
  async function timed(where: string, host: string, to: number): Promise<{ outcome: string; ms: number }> {
    const res = await lab.exec(where, [process.execPath, TIMED, host, String(to)])
    const [outcome = '', a, b] = res.stdout.trim().split(' ')
    return { outcome: outcome === 'OK' ? 'OK' : `${outcome} ${a}`, ms: Number(outcome === 'OK' ? a : b) }
  }

  it('a connection out through the router waits at least the latency (its SYN-ACK is held)', async () => {
    const slow = await timed('a', lab.host('p').ip, port)
    expect(slow.outcome).toBe('OK')
    expect(slow.ms).toBeGreaterThanOrEqual(LATENCY_MS)
  })

  it('an unsolicited SYN to the router is held too, so its RST comes no sooner', async () => {
    const rst = await timed('p', lab.router('slow').wanIp, 9)
    expect(rst.outcome).toBe('ERR ECONNREFUSED')
    expect(rst.ms).toBeGreaterThanOrEqual(LATENCY_MS)
  })

  it('a router without latency: the same two do not wait it (the control)', async () => {
    const out = await timed('b', lab.host('p').ip, port)
    const rst = await timed('p', lab.router('fast').wanIp, 9)
    expect(out.outcome).toBe('OK')
    expect(rst.outcome).toBe('ERR ECONNREFUSED')
    expect(Math.min(out.ms, rst.ms)).toBeLessThan(LATENCY_MS)
  })
})
