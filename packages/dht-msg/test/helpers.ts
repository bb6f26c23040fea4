import type { EventEmitter } from 'node:events'
import { once } from 'node:events'
import { connectLine, type LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import { RelayClient, type RelayClientOptions } from '../src/index.js'
import { RelayServer, type RelayServerOptions } from '../src/server.js'

export const HOST = '127.0.0.1'
/** Upper bound for any single wait in these tests: fail instead of hanging. */
export const WAIT = 10_000

export async function startRelay(options: RelayServerOptions = {}, port = 0) {
  const server = new RelayServer(options)
  const address = await server.listen({ host: HOST, port })
  return { server, port: address.port }
}

export function client(port: number, options: Partial<RelayClientOptions> = {}): Promise<RelayClient> {
  return RelayClient.connect({
    host: HOST,
    port,
    reconnectMinDelay: 10,
    reconnectMaxDelay: 100,
    ...options,
    signal: AbortSignal.timeout(WAIT),
  })
}

/** The next `event` of `emitter`, failing after WAIT ms. */
export async function next<T = unknown>(emitter: EventEmitter, event: string): Promise<T> {
  const [value] = await once(emitter, event, { signal: AbortSignal.timeout(WAIT) })
  return value as T
}

/** A hand-driven relay connection, authenticated as `identity` (for protocol-level tests). */
export async function rawSession(port: number, identity: NodeIdentity): Promise<LineSocket> {
  const con = await connectLine({ host: HOST, port, timeout: WAIT })
  con.sendLine(`RELAY PYP2P-MSG/1 ${identity.nodeId}`)
  const challenge = (await con.readLine({ timeout: WAIT })).split(' ')[1]!
  con.sendLine(`AUTH ${identity.publicKey} ${identity.signChallenge(challenge)}`)
  const welcome = await con.readLine({ timeout: WAIT })
  if (!welcome.startsWith('WELCOME ')) throw new Error(`expected WELCOME, got ${welcome}`)
  return con
}

/** `promise`, or a rejection after WAIT ms (so a wait fails instead of hanging). */
export function within<T>(promise: Promise<T>, ms = WAIT): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
