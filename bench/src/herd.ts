/**
 * A thundering herd (issue 19): thousands of registered nodes lose their bootstrap server at once
 * (SIGKILL), and all reconnect to it when it is restarted on the same port. How responsive is the
 * server meanwhile, to a client that only wants `BOOTSTRAP`?
 *
 * The server is the @pyp2p/bootstrap-server CLI from its sources in its own process (`ulimit -n 20000`).
 * Worker processes (this file with `--worker`) hold the nodes: each node is a real `RendezvousSession`
 * of @pyp2p/punch (signed `PASSIVE READY`, keep-alive, reconnect with its jittered back-off), spread over
 * loopback source addresses 127.0.0.2 ... so per-IP limits stay the server's own. A separate client in
 * this process times `BOOTSTRAP 10` (request to reply, one at a time):
 *   1. `steady`: N nodes registered, nothing happening;
 *   2. `herd`: from the restarted server's first `listening` line until every node is registered again;
 *   3. `after`: steady again.
 * Also: how long until all N were listed again, reconnect attempts that failed, the client's connect time.
 *
 *   npm run bench:herd -- [--nodes 10000] [--workers 2] [--samples 2000] [--jitter 0.5]
 *
 * `--jitter 0` turns the back-off's jitter off (nodes retry in lock-step), for comparison.
 * Writes bench/results/herd.json.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { NodeIdentity } from '@pyp2p/identity'
import { RendezvousClient, RendezvousSession } from '@pyp2p/punch'
import { printTable, writeResults } from './report.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const SERVER_PKG = join(HERE, '..', '..', 'packages', 'bootstrap-server')
const FD_LIMIT = 20_000
/** Sessions per loopback source address (the server's default per-IP limits are 256). */
const PER_ADDRESS = 250
/** Registrations a worker runs at once while ramping up. */
const RAMP_BATCH = 250
const STEP_TIMEOUT_MS = 180_000
const PROGRESS_MS = 200

type ToWorker =
  | { cmd: 'start'; port: number; count: number; first: number; jitter: number }
  | { cmd: 'report' }
  | { cmd: 'stop' }
type FromWorker =
  | { event: 'registered'; ok: number; failed: number; error?: string }
  | { event: 'report'; restoredAt: number[] }
  | { event: 'progress'; lost: number; restored: number; retryFailed: number; errors: Record<string, number> }

// ------------------------------------------------------------------------------------------ worker
async function worker(): Promise<void> {
  const sessions: RendezvousSession[] = []
  const counts = { lost: 0, restored: 0, retryFailed: 0 }
  /** Failed reconnect attempts by what failed (the error's code and the server's, if any). */
  const errors: Record<string, number> = {}
  /** `Date.now()` of every `server:restored` (wall clock: compared with the main process's). */
  const restoredAt: number[] = []
  let dirty = false
  const send = (m: FromWorker): void => {
    process.send?.(m)
  }
  const progress = setInterval(() => {
    if (!dirty) return
    dirty = false
    send({ event: 'progress', ...counts, errors })
  }, PROGRESS_MS)
  process.on('message', async (m: ToWorker) => {
    if (m.cmd === 'stop') {
      clearInterval(progress)
      for (const s of sessions) s.close()
      process.exit(0)
    }
    if (m.cmd === 'report') return send({ event: 'report', restoredAt })
    let ok = 0
    let failed = 0
    let error: string | undefined
    for (let i = 0; i < m.count; i += RAMP_BATCH) {
      const batch = Array.from({ length: Math.min(RAMP_BATCH, m.count - i) }, (_, j) => {
        const n = m.first + i + j
        const me = NodeIdentity.generate()
        const s = new RendezvousSession({
          servers: [{ host: '127.0.0.1', port: m.port }],
          nodeId: me.nodeId,
          identity: me,
          localAddress: `127.0.0.${2 + Math.floor(n / PER_ADDRESS)}`,
          retryJitter: m.jitter,
        })
        s.on('server:lost', () => {
          counts.lost++
          dirty = true
        })
        s.on('server:restored', () => {
          restoredAt.push(Date.now())
          counts.restored++
          dirty = true
        })
        s.on('retry-failed', ({ error }) => {
          // the innermost cause says what happened (refused, timed out, reset, a server's ERROR)
          let e = error as Error & { code?: string; serverCode?: string; cause?: unknown }
          while (e.cause instanceof Error) e = e.cause as typeof e
          const key = `${e.serverCode ?? e.code ?? ''} ${e.message.slice(0, 40)}`
          errors[key] = (errors[key] ?? 0) + 1
          counts.retryFailed++
          dirty = true
        })
        sessions.push(s)
        return s.register('passive', 10_000 + (n % 50_000), 10, { signal: AbortSignal.timeout(60_000) })
      })
      for (const r of await Promise.allSettled(batch)) {
        if (r.status === 'fulfilled') ok++
        else {
          failed++
          error ??= (r.reason as Error).message
        }
      }
    }
    send({ event: 'registered', ok, failed, ...(error !== undefined && { error }) })
  })
}

// ------------------------------------------------------------------------------------------ main
function startServer(port: number, nodes: number): Promise<{ proc: ChildProcess; port: number; at: number }> {
  const flags = [
    `--host 127.0.0.1 --port ${port} --json`,
    `--max-connections ${nodes + 1000} --max-connections-per-prefix ${nodes + 1000}`,
    `--max-nodes ${nodes * 2} --max-nodes-per-prefix ${nodes * 2} --idle-timeout 600000`,
    // the probe sends its BOOTSTRAPs back to back, far above a node's 50 lines/s
    '--line-rate 1000000 --line-burst 1000000',
  ].join(' ')
  const argv = `"${process.execPath}" --import tsx --conditions=@pyp2p/source src/bin.ts ${flags}`
  // `exec` keeps the pid: SIGKILL goes to the server itself.
  const proc = spawn('sh', ['-c', `ulimit -n ${FD_LIMIT} && exec ${argv}`], {
    cwd: SERVER_PKG,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000)
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 100_000) out += d
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        out = '' // later lines are not ours to parse
        resolve({ proc, port: Number(m[1]), at: performance.now() })
      }
    })
    proc.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)))
  })
}

/** A client of its own: connects (timed) and times `BOOTSTRAP 10` one after another while `more()`. */
async function probe(
  port: number,
  more: (n: number) => boolean,
): Promise<{ connectMs: number; ms: number[] }> {
  const me = NodeIdentity.generate()
  const t0 = performance.now()
  const client = await RendezvousClient.connect({
    server: { host: '127.0.0.1', port },
    nodeId: me.nodeId,
    identity: me,
    localAddress: '127.0.0.1',
    timeout: 60_000,
  })
  const connectMs = performance.now() - t0
  const ms: number[] = []
  try {
    while (more(ms.length)) {
      const t = performance.now()
      await client.bootstrap(10, { timeout: 60_000 })
      ms.push(performance.now() - t)
    }
  } finally {
    client.close()
  }
  return { connectMs, ms }
}

function stats(ms: number[]): { samples: number; p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
  return { samples: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? Number.NaN }
}

function onMessage(workers: ChildProcess[], fn: (m: FromWorker, i: number) => void): () => void {
  const listeners = workers.map((w, i) => {
    const l = (m: FromWorker): void => fn(m, i)
    w.on('message', l)
    return l
  })
  return () => {
    for (const [i, w] of workers.entries()) w.off('message', listeners[i]!)
  }
}

/** Resolves when `check()` holds after a worker message, or rejects after STEP_TIMEOUT_MS. */
function until(workers: ChildProcess[], check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`timed out: ${what}`))
    }, STEP_TIMEOUT_MS)
    const stop = onMessage(workers, () => {
      if (!check()) return
      clearTimeout(timer)
      stop()
      resolve()
    })
  })
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      workers: { type: 'string', default: '2' },
      samples: { type: 'string', default: '2000' },
      jitter: { type: 'string', default: '0.5' },
    },
  })
  const nodes = Number(values.nodes)
  const samples = Number(values.samples)
  const jitter = Number(values.jitter)
  const nWorkers = Number(values.workers)
  let server = await startServer(0, nodes)
  const port = server.port
  const workers = Array.from({ length: nWorkers }, () =>
    fork(fileURLToPath(import.meta.url), ['--worker'], {
      execArgv: ['--import', 'tsx', '--conditions=@pyp2p/source'],
      stdio: 'inherit',
    }),
  )
  // Ctrl-C or a timeout's SIGTERM: take the server and the workers down with us
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.proc.kill('SIGKILL')
      for (const w of workers) w.kill('SIGKILL')
      process.exit(130)
    })
  }
  const progress = workers.map(() => ({
    lost: 0,
    restored: 0,
    retryFailed: 0,
    errors: {} as Record<string, number>,
  }))
  const stopProgress = onMessage(workers, (m, i) => {
    if (m.event === 'progress') progress[i] = m
  })
  const sum = (k: 'lost' | 'restored' | 'retryFailed'): number => progress.reduce((a, p) => a + p[k], 0)
  try {
    // 1. ramp up
    const per = Math.ceil(nodes / nWorkers)
    const t0 = performance.now()
    const registered: FromWorker[] = []
    // (registered before `until`'s own listener, so the last message is counted before it checks)
    const stopRamp = onMessage(workers, (m) => {
      if (m.event === 'registered') registered.push(m)
    })
    const ramp = until(workers, () => registered.length === nWorkers, 'ramp-up')
    workers.forEach((w, i) => {
      const count = Math.max(0, Math.min(per, nodes - i * per))
      w.send({ cmd: 'start', port, count, first: i * per, jitter } satisfies ToWorker)
    })
    await ramp
    stopRamp()
    const held = registered.reduce((a, m) => a + (m.event === 'registered' ? m.ok : 0), 0)
    const refused = registered.reduce((a, m) => a + (m.event === 'registered' ? m.failed : 0), 0)
    const firstError = registered.find((m) => m.event === 'registered' && m.error !== undefined)
    console.log(
      `${held} nodes registered in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
        (refused > 0 ? ` (${refused} failed: ${JSON.stringify(firstError)})` : ''),
    )

    // 2. steady
    const steady = await probe(port, (n) => n < samples)

    // 3. the herd: kill the server, wait until every node saw it, restart on the same port
    const died = until(workers, () => sum('lost') >= held, 'every node to notice the server is gone')
    server.proc.kill('SIGKILL')
    await died
    const restoredAll = until(workers, () => sum('restored') >= held, 'every node to be registered again')
    server = await startServer(port, nodes)
    const upAt = Date.now()
    // (progress is reported every 200 ms: attempts refused just before the restart may count as after)
    const failedWhileDown = sum('retryFailed')
    let herdDone = false
    let herdMs = Number.NaN
    void restoredAll.then(() => {
      herdDone = true
      herdMs = performance.now() - server.at
    })
    const ticker = setInterval(() => {
      const s = ((performance.now() - server.at) / 1000).toFixed(0)
      console.log(
        `  +${s} s: ${sum('restored')}/${held} registered again, ${sum('retryFailed')} attempts failed`,
      )
    }, 5_000)
    const herd = await probe(port, () => !herdDone).finally(() => clearInterval(ticker))
    await restoredAll
    console.log(`all ${held} listed again ${herdMs.toFixed(0)} ms after the server's restart`)
    const reports: number[][] = []
    const stopReports = onMessage(workers, (m) => {
      if (m.event === 'report') reports.push(m.restoredAt)
    })
    const reported = until(workers, () => reports.length === nWorkers, "the workers' reports")
    for (const w of workers) w.send({ cmd: 'report' } satisfies ToWorker)
    await reported
    stopReports()
    const heal = stats(reports.flat().map((t) => t - upAt))

    // 4. after
    const after = await probe(port, (n) => n < samples)
    const row = (phase: string, p: { connectMs: number; ms: number[] }) => ({
      phase,
      nodes: held,
      jitter,
      ...stats(p.ms),
      clientConnectMs: p.connectMs,
    })
    const rows = [row('steady', steady), row('herd', herd), row('after', after)]
    printTable('BOOTSTRAP 10 latency (ms) from a separate client, before / during / after the herd', rows)
    const summary = {
      nodes: held,
      workers: nWorkers,
      jitter,
      allListedAgainMs: herdMs,
      healP50Ms: heal.p50,
      healP99Ms: heal.p99,
      healMaxMs: heal.max,
      failedWhileDown,
      failedAfterRestart: sum('retryFailed') - failedWhileDown,
      failedBy: progress.reduce<Record<string, number>>((a, p) => {
        for (const [k, v] of Object.entries(p.errors)) a[k] = (a[k] ?? 0) + v
        return a
      }, {}),
      p99RatioHerdToSteady: stats(herd.ms).p99 / stats(steady.ms).p99,
    }
    printTable('herd', [summary])
    console.log(`results: ${await writeResults('herd', [...rows, summary])}`)
  } finally {
    stopProgress()
    for (const w of workers) if (w.connected) w.send({ cmd: 'stop' } satisfies ToWorker)
    server.proc.kill('SIGKILL')
  }
}

if (process.argv.includes('--worker')) await worker()
else await main()
