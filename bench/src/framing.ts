/**
 * Line framing throughput on loopback: @pyp2p/framing's LineSocket against `node:readline` and `split2`
 * over the same kind of socket, with raw socket byte throughput as the ceiling.
 *
 * A child process (plain Node, so it never shares our event loop) serves the data: each connection
 * sends a header `<lineBytes> <totalBytes>\n`, and the child answers with `totalBytes` of `\r\n`-ended
 * lines of `lineBytes` bytes each (delimiter included), the same bytes for every implementation, then
 * closes. We time from the header to the last line, for each implementation in turn (the order rotates
 * each round so drift in machine load is shared), and report the median of the runs and their spread.
 *
 *   pnpm --filter @pyp2p/framing build && npm run bench:framing -- [--runs 7] [--mb 48]
 *
 * Writes bench/results/framing.json (`[{ impl, lineBytes, linesPerSec, mbPerSec }]`, medians) and
 * bench/results/framing-runs.json (every run).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { LineSocket } from '@pyp2p/framing'
import split2 from 'split2'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    mb: { type: 'string', default: '48' },
    // Also run `plain`, the naive indexOf + toString-per-line decoder the targets were set against.
    calibrate: { type: 'boolean', default: false },
  },
})
const REQUIRED = ['pyp2p', 'readline', 'split2', 'raw'] as const
type Impl = (typeof REQUIRED)[number] | 'plain'
const IMPLS: readonly Impl[] = values.calibrate ? [...REQUIRED, 'plain'] : REQUIRED
const LINE_SIZES = [16, 100, 4096]

const RUNS = Number(values.runs)
const TOTAL_BYTES = Number(values.mb) * 1024 * 1024

// The sender: lines of printable ASCII that differ from each other, built once per size.
const SENDER = `
const net = require('node:net')
const cache = new Map()
function block(lineBytes) {
  if (!cache.has(lineBytes)) {
    const perBlock = Math.max(1, Math.floor(1024 * 1024 / lineBytes))
    const buf = Buffer.alloc(perBlock * lineBytes)
    for (let l = 0; l < perBlock; l++) {
      const o = l * lineBytes
      for (let i = 0; i < lineBytes - 2; i++) buf[o + i] = 0x21 + ((l * 31 + i * 7) % 94)
      buf[o + lineBytes - 2] = 13
      buf[o + lineBytes - 1] = 10
    }
    cache.set(lineBytes, buf)
  }
  return cache.get(lineBytes)
}
const server = net.createServer((socket) => {
  let header = ''
  socket.on('data', function onHeader(d) {
    header += d.toString('latin1')
    const nl = header.indexOf('\\n')
    if (nl === -1) return
    socket.off('data', onHeader)
    const [lineBytes, total] = header.slice(0, nl).split(' ').map(Number)
    const buf = block(lineBytes)
    let left = total
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, buf.length)
        left -= n
        if (!socket.write(n === buf.length ? buf : buf.subarray(0, n))) return socket.once('drain', pump)
      }
      socket.end()
    }
    pump()
  })
  socket.on('error', () => {})
})
server.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('disconnect', () => process.exit(0))
`

interface Run {
  round: number
  impl: Impl
  lineBytes: number
  lines: number
  seconds: number
}

/** Connects, asks for the data, and resolves with [lines counted, seconds] once the stream ends. */
async function measure(
  port: number,
  impl: Impl,
  lineBytes: number,
  total: number,
): Promise<Omit<Run, 'round'>> {
  const socket: Socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const start = process.hrtime.bigint()
  socket.write(`${lineBytes} ${total}\n`)
  let lines = 0
  if (impl === 'raw') {
    let bytes = 0
    socket.on('data', (d: Buffer) => {
      bytes += d.length
    })
    await once(socket, 'end')
    lines = bytes / lineBytes
  } else if (impl === 'pyp2p') {
    const con = new LineSocket(socket)
    con.on('line', () => {
      lines++
    })
    await con.closed
  } else if (impl === 'plain') {
    let pending: Buffer | undefined
    socket.on('data', (d: Buffer) => {
      let buf = pending ? Buffer.concat([pending, d]) : d
      let start = 0
      for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
        buf.toString('utf8', start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl)
        lines++
        start = nl + 1
      }
      buf = buf.subarray(start)
      pending = buf.length > 0 ? buf : undefined
    })
    await once(socket, 'end')
  } else if (impl === 'readline') {
    const rl = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })
    rl.on('line', () => {
      lines++
    })
    await once(rl, 'close')
  } else {
    const stream = socket.pipe(split2())
    stream.on('data', () => {
      lines++
    })
    await once(stream, 'end')
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  socket.destroy()
  if (lines !== total / lineBytes)
    throw new Error(`${impl}: counted ${lines} lines, expected ${total / lineBytes}`)
  return { impl, lineBytes, lines, seconds }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['-e', SENDER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [port] = (await once(child, 'message')) as [number]
  const runs: Run[] = []
  try {
    for (const lineBytes of LINE_SIZES) {
      const total = Math.floor(TOTAL_BYTES / lineBytes) * lineBytes
      // Warm-up (JIT, sender's block cache), not recorded.
      for (const impl of IMPLS)
        await measure(
          port,
          impl,
          lineBytes,
          Math.min(total, 8 * 1024 * 1024 - ((8 * 1024 * 1024) % lineBytes)),
        )
      for (let r = 0; r < RUNS; r++) {
        for (let i = 0; i < IMPLS.length; i++) {
          const impl = IMPLS[(i + r) % IMPLS.length] as Impl
          runs.push({ round: r, ...(await measure(port, impl, lineBytes, total)) })
        }
      }
    }
  } finally {
    child.disconnect()
    child.kill()
  }

  const results: {
    impl: (typeof REQUIRED)[number]
    lineBytes: number
    linesPerSec: number
    mbPerSec: number
  }[] = []
  const table: Record<string, unknown>[] = []
  const verdicts: string[] = []
  for (const lineBytes of LINE_SIZES) {
    const stats = new Map<Impl, { med: number; min: number; max: number }>()
    for (const impl of IMPLS) {
      const rates = runs
        .filter((r) => r.impl === impl && r.lineBytes === lineBytes)
        .map((r) => r.lines / r.seconds)
      stats.set(impl, { med: median(rates), min: Math.min(...rates), max: Math.max(...rates) })
    }
    const best = Math.max(stats.get('readline')?.med ?? 0, stats.get('split2')?.med ?? 0)
    const raw = stats.get('raw')?.med ?? 0
    const ours = stats.get('pyp2p')?.med ?? 0
    // Paired ratios: each round runs every implementation back to back, so a ratio within a round
    // is less exposed to the load other processes put on the machine than a ratio of medians.
    const rate = (impl: Impl, round: number): number => {
      const run = runs.find((x) => x.impl === impl && x.lineBytes === lineBytes && x.round === round)
      return run === undefined ? Number.NaN : run.lines / run.seconds
    }
    const rounds = [...Array(RUNS).keys()]
    const paired = (f: (round: number) => number): string => {
      const xs = rounds.map(f)
      return `${median(xs).toFixed(2)} (rounds ${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`
    }
    const vsBest = ours / best
    verdicts.push(
      `${lineBytes} B: pyp2p / best(readline, split2) = ${vsBest.toFixed(2)} from medians, paired per round ${paired((r) => rate('pyp2p', r) / Math.max(rate('readline', r), rate('split2', r)))}; target >= 1.25: ${vsBest >= 1.25 ? 'met' : 'NOT met'}`,
    )
    if (lineBytes === 4096) {
      const vsRaw = ours / raw
      verdicts.push(
        `${lineBytes} B: pyp2p / raw = ${vsRaw.toFixed(2)} from medians, paired per round ${paired((r) => rate('pyp2p', r) / rate('raw', r))}; target >= 0.8: ${vsRaw >= 0.8 ? 'met' : 'NOT met'}`,
      )
    }
    for (const impl of IMPLS) {
      const s = stats.get(impl) as { med: number; min: number; max: number }
      const mbPerSec = (s.med * lineBytes) / 1e6
      // framing.json holds the four required implementations only; `plain` is in framing-runs.json.
      if (impl !== 'plain')
        results.push({
          impl,
          lineBytes,
          linesPerSec: Math.round(s.med),
          mbPerSec: Math.round(mbPerSec * 10) / 10,
        })
      table.push({
        lineBytes,
        impl,
        'lines/s (median)': Math.round(s.med),
        'MB/s': mbPerSec,
        'spread min..max lines/s': `${Math.round(s.min).toLocaleString('en-US')}..${Math.round(s.max).toLocaleString('en-US')}`,
        'spread %': ((s.max - s.min) / s.med) * 100,
        'vs best(readline,split2)': s.med / best,
        'vs raw': s.med / raw,
      })
    }
  }
  printTable(`framing throughput on loopback: ${RUNS} runs x ${values.mb} MiB per size, medians`, table)
  console.log(`\n${verdicts.join('\n')}`)
  await writeResults('framing', results)
  await writeResults(
    'framing-runs',
    runs.map((r) => ({ ...r, linesPerSec: r.lines / r.seconds })),
  )
}

await main()
