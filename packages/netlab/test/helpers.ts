import { fileURLToPath } from 'node:url'
import type { Lab } from '../src/index.js'

export const OBSERVER = fileURLToPath(new URL('./fixtures/tcp-observer.mjs', import.meta.url))
export const PROBE = fileURLToPath(new URL('./fixtures/tcp-probe.mjs', import.meta.url))
export const SIMOPEN = fileURLToPath(new URL('./fixtures/tcp-simopen.mjs', import.meta.url))
export const HELLO = fileURLToPath(new URL('./fixtures/hello.ts', import.meta.url))

/** Starts a tcp-observer in `where` and resolves with its port once it listens. */
export async function observe(lab: Lab, where: string, port = 0) {
  const proc = lab.spawn(where, [process.execPath, OBSERVER, String(port)])
  const line = await proc.waitForLine(/^LISTENING \d+$/)
  return { proc, port: Number(line.split(' ')[1]) }
}

export type ProbeResult =
  | { ok: true; ip: string; port: number; localPort: number }
  | { ok: false; error: string }

/** One connection attempt from `where`; what the other side saw, or the error code. */
export async function probe(
  lab: Lab,
  where: string,
  host: string,
  port: number,
  opts: { localPort?: number; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const res = await lab.exec(where, [
    process.execPath,
    PROBE,
    host,
    String(port),
    String(opts.localPort ?? 0),
    String(opts.timeoutMs ?? 5000),
  ])
  const words = res.stdout.trim().split(' ')
  if (words[0] === 'OK') {
    return { ok: true, ip: words[1] ?? '', port: Number(words[2]), localPort: Number(words[3]) }
  }
  return { ok: false, error: words[1] ?? `exit ${res.code}: ${res.stderr}` }
}
