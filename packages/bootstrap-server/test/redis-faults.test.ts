/**
 * Scale-out faults on a real redis-server: Redis stops (instances keep serving their own nodes and say
 * `degraded`, then reconnect and publish their nodes again), Redis stalls (replies stay bounded), and
 * an instance killed with SIGKILL leaves nothing listed past the entry TTL.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type BootstrapServer, type BootstrapServerOptions, createStreamLogger } from '../src/index.js'
import { redisSuite } from './fixtures/redis-suite.js'
import { nodeId, startServer, TestClient, until, WAIT_MS } from './helpers.js'

const INSTANCE = fileURLToPath(new URL('./fixtures/redis-instance.ts', import.meta.url))
const suite = redisSuite('f')
const { ready, servers, cleanups, prefix, client } = suite

async function listed(port: number): Promise<string[]> {
  const c = await client(port)
  const reply = await c.request('BOOTSTRAP 50')
  c.close()
  if (reply.type !== 'NODES') throw new Error(`expected NODES, got ${JSON.stringify(reply)}`)
  return reply.nodes.map((n) => n.nodeId).sort()
}

async function instance(
  options: BootstrapServerOptions,
): Promise<{ server: BootstrapServer; port: number; log: string[] }> {
  const log: string[] = []
  const logger = createStreamLogger({ stream: { write: (s: string) => log.push(s) }, level: 'info' })
  const started = await startServer({ redis: suite.redis.url, logger, ...options })
  servers.push(started.server)
  return { ...started, log }
}

describe.skipIf(!ready.ok)(`scale-out faults ${ready.reason ?? ''}`, () => {
  it('Redis stops: each instance serves its own nodes, says degraded, and publishes them again when Redis is back', async () => {
    const p = prefix()
    // Strict listing (every BOOTSTRAP asks Redis): the cache while Redis is away is in
    // redis-listing.test.ts.
    const a = await instance({ redisKeyPrefix: p, redisListingRefreshMs: 0 })
    const b = await instance({ redisKeyPrefix: p, redisListingRefreshMs: 0 })
    const x = await client(a.port)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(b.port)).toEqual([nodeId(1)])

    await suite.redis.stop()
    await until(() => a.server.stats().redis?.status === 'degraded', 'A to notice')
    await until(() => b.server.stats().redis?.status === 'degraded', 'B to notice')
    expect(a.log.join('')).toMatch(/WARN redis degraded/)
    // Served from local state: registrations and lists keep working at each instance.
    const y = await client(a.port)
    expect(await y.request(`SIMULTANEOUS READY 4001 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(a.port)).toEqual([nodeId(1), nodeId(2)])
    expect(await listed(b.port)).toEqual([])
    const z = await client(b.port)
    expect(await z.request(`CANDIDATE ${nodeId(2)} ${nodeId(3)} TCP 4000`)).toMatchObject({
      code: 'ERR_NO_SUCH_NODE',
    })

    // An empty Redis comes back: both reconnect and publish their live nodes again.
    await suite.redis.start()
    await until(() => a.server.stats().redis?.status === 'ok', 'A to reconnect')
    await until(() => b.server.stats().redis?.status === 'ok', 'B to reconnect')
    expect(a.server.stats().redis?.reconnects).toBeGreaterThanOrEqual(1)
    await until(() => a.log.join('').includes('INFO republished'), 'A to republish')
    expect(await listed(b.port)).toEqual([nodeId(1), nodeId(2)])
  })

  it('a stalled Redis does not stall replies: served from local state within the timeout', async () => {
    const p = prefix()
    const a = await instance({ redisKeyPrefix: p, redisTimeoutMs: 50 })
    const x = await client(a.port)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    process.kill(suite.redis.pid as number, 'SIGSTOP')
    try {
      // Each of these waits for Redis at most 50 ms, then answers from this instance's tables.
      expect(await x.request('BOOTSTRAP 5')).toMatchObject({ type: 'NODES', nodes: [] })
      expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
      const y = await client(a.port)
      expect(await y.request('BOOTSTRAP 5')).toMatchObject({ type: 'NODES', nodes: [{}, {}] })
      expect(a.server.stats().redis).toMatchObject({ status: 'degraded' })
      // (The second BOOTSTRAP did not wait: Redis is known to be away. Its pool read runs behind it.)
      await until(() => (a.server.stats().redis?.failures ?? 0) >= 3, 'the background read to time out')
    } finally {
      process.kill(suite.redis.pid as number, 'SIGCONT')
    }
    await until(() => a.server.stats().redis?.status === 'ok', 'A to see Redis answer again')
  })

  it('an instance killed with SIGKILL leaves nothing listed past the entry TTL', async () => {
    const p = prefix()
    const a = await instance({ redisKeyPrefix: p })
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pyp2p/source',
        INSTANCE,
        JSON.stringify({ redis: suite.redis.url, redisKeyPrefix: p, redisEntryTtlMs: 600 }),
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    cleanups.push(() => child.kill('SIGKILL'))
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`instance did not start: ${out}`)), WAIT_MS)
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const m = /listening (\d+)/.exec(out)
        if (m === null) return
        clearTimeout(timer)
        resolve(Number(m[1]))
      })
    })
    const sim = await TestClient.connect(port)
    cleanups.push(() => sim.close())
    expect(await sim.request(`SIMULTANEOUS READY 4001 1 ${nodeId(9)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(a.port)).toEqual([nodeId(9)])
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    // Its entry was refreshed every 200 ms while it lived; now it expires within 600 ms.
    const deadline = Date.now() + WAIT_MS
    while ((await listed(a.port)).length > 0) {
      if (Date.now() > deadline) throw new Error('the killed instance’s node is still listed')
    }
  })
})
