/**
 * What crosses the wire: tcpdump captures the loopback traffic of one node's listening port while
 * another node connects to it and both send a known line. Secure (the default), the line is nowhere in
 * the capture (but the secure prologue is: the capture saw the connection); with `secure: false`, the
 * same test finds the line in clear, so it can fail. Needs root and tcpdump, like the lab tests.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labReadiness } from '@pyp2p/netlab'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import type { Net } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const ready = await labReadiness()
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/**
 * tcpdump on `lo` for one TCP port; every packet written at once (`--immediate-mode -U`: else the last
 * ones wait in the kernel's buffer block), as root (`-Z root`: the file is in a 0700 directory).
 */
async function capture(port: number, file: string): Promise<ChildProcess> {
  const child = spawn(
    'tcpdump',
    ['-i', 'lo', '-n', '--immediate-mode', '-U', '-s', '0', '-Z', 'root', '-w', file, `tcp port ${port}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let err = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), WAIT_MS)
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString()
      if (/listening on/.test(err)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`tcpdump exited (${code}): ${err}`))
    })
  })
  return child
}

/**
 * Waits until the capture holds every packet sent so far: tcpdump gets packets in order, so once a
 * marker sent last (in clear, on a connection of its own to the captured port) is in the file, so is
 * everything before it. Without this, a loaded machine could stop tcpdump before it wrote the lines.
 */
async function flushed(port: number, file: string): Promise<void> {
  const marker = `CAPTURE-FLUSH-${process.pid}-${port}`
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {}) // the node drops it as a bad handshake: expected
  socket.end(`${marker}\n`)
  const deadline = AbortSignal.timeout(WAIT_MS)
  while (!(await readFile(file)).includes(marker)) {
    if (deadline.aborted) throw new Error(`tcpdump did not write the flush marker within ${WAIT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20)) // polling the file for the marker
  }
  socket.destroy()
}

/** Two nodes, a capture of the first one's port, a known line each way; returns the capture. */
async function run(secure: boolean): Promise<{ pcap: Buffer; lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pyp2p-capture-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'lo.pcap')
  await using tn = await createTestnet({ nodes: 2, node: { secure } })
  const [a, b] = tn.nodes as [Net, Net]
  const tcpdump = await capture(a.port, file)
  const lines = [`TOP-SECRET-${secure}-from-b-${Date.now()}`, `TOP-SECRET-${secure}-from-a-${Date.now()}`]
  const arrived = nextConnection(a)
  const con = await b.unl.connect(a.unl.value)
  const { con: other } = await arrived
  con.sendLine(lines[0]!)
  expect(await other.readLine({ timeout: WAIT_MS })).toBe(lines[0])
  other.sendLine(lines[1]!)
  expect(await con.readLine({ timeout: WAIT_MS })).toBe(lines[1])
  con.close()
  await other.closed
  await flushed(a.port, file)
  const exited = once(tcpdump, 'exit')
  tcpdump.kill('SIGINT') // flushes and closes the file
  await exited
  return { pcap: await readFile(file), lines }
}

describe.skipIf(!ready.ok)('packet capture of a connection between two nodes', () => {
  it('secure (the default): no application line in clear', async () => {
    const { pcap, lines } = await run(true)
    expect(pcap.includes('PYP2P-SECURE/2')).toBe(true) // the capture holds the connection
    for (const line of lines) expect(pcap.includes(line)).toBe(false)
    expect(pcap.includes('PYP2P-CONNECT/1')).toBe(false) // the hello travels encrypted too
  })

  it('secure: false: the same lines in clear (so the test above can fail)', async () => {
    const { pcap, lines } = await run(false)
    for (const line of lines) expect(pcap.includes(line)).toBe(true)
    expect(pcap.includes('PYP2P-CONNECT/1')).toBe(true)
  })
})
