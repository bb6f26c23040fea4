// NAT behaviour as far as one rendezvous server can tell (@pyp2p/punch's detectNat): what it sees
// of us, how new connections are mapped, and what the router does with an unsolicited SYN from it.
import { randomBytes } from 'node:crypto'
import { detectNat, type NatType, RendezvousClient, type ServerAddress } from '@pyp2p/punch'
import { bounded } from './bounded.js'
import { DEFAULT_SERVER_PORT, SERVER_CHECK_MS } from './constants.js'
import { DoctorError } from './errors.js'
import type { CheckResult, DoctorReport } from './report.js'

/** Parses `host:port`, `host`, `[v6]:port` or `[v6]`; throws ERR_INVALID_ARGUMENT. */
export function parseServer(text: string): ServerAddress {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(text)
  const port = m?.[2] === undefined ? DEFAULT_SERVER_PORT : Number(m[2])
  if (m?.[1] === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw DoctorError.INVALID_ARGUMENT(
      `--server must be host:port (a @pyp2p/bootstrap-server), got ${JSON.stringify(text)}`,
    )
  }
  return { host: m[1], port }
}

const MAPPING: Record<NatType, NonNullable<DoctorReport['nat']['mapping']>> = {
  preserving: 'preserving',
  reuse: 'endpoint-independent',
  delta: 'sequential',
  random: 'random',
}

export async function natCheck(
  server: ServerAddress | undefined,
  localAddresses: readonly string[],
  signal: AbortSignal,
): Promise<{ nat: DoctorReport['nat']; checks: CheckResult[] }> {
  if (server === undefined) return { nat: { status: 'skipped' }, checks: [] }
  const where = `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port ?? DEFAULT_SERVER_PORT}`
  const nodeId = randomBytes(20).toString('hex')
  const run = await bounded(
    'nat-behaviour',
    SERVER_CHECK_MS,
    async (s) => {
      const hello = await RendezvousClient.connect({ server, nodeId, stage: 'detection', signal: s })
      const observed = { address: hello.observed.ip, port: hello.observed.port }
      await hello.quit({ timeout: 500 }).catch(() => undefined)
      const behaviour = await detectNat({ server, nodeId, inbound: true, signal: s })
      return { observed, behaviour }
    },
    signal,
  )
  if (run.value === undefined) {
    return {
      nat: {
        status: run.result.status,
        server: where,
        ...(run.result.error ? { error: run.result.error.code } : {}),
      },
      checks: [run.result],
    }
  }
  const { observed, behaviour } = run.value
  // The server sees one of our own addresses: no NAT between us and it.
  const unNatted = localAddresses.includes(observed.address)
  return {
    nat: {
      status: 'ok',
      server: where,
      observed,
      mapping: unNatted ? 'none' : MAPPING[behaviour.type],
      ...(behaviour.delta !== undefined ? { delta: behaviour.delta } : {}),
      filtering: behaviour.inbound ?? 'unknown',
      samples: behaviour.samples.map((x) => ({ localPort: x.localPort, externalPort: x.externalPort })),
    },
    checks: [run.result],
  }
}
