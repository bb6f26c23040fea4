/** Test tooling: a server on loopback and a client that reads parsed server messages. */
import { connectLine, type LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import {
  type ClientMessage,
  formatClientMessage,
  MAX_SERVER_LINE_LENGTH,
  parseServerMessage,
  proofFields,
  RENDEZVOUS_SIGNATURE_CONTEXT,
  type ServerMessage,
  type SignableMessage,
} from '@pyp2p/rendezvous-protocol'
import { BootstrapServer, type BootstrapServerOptions } from '../src/index.js'

/**
 * The words every HELLO carries before the services': a fresh nonce, the server id and that proofs bind
 * to the connection (issue 17), then the node lifetime in seconds.
 */
export const PROOF_WORDS =
  'nonce=[A-Za-z0-9_-]{22} server=[A-Za-z0-9_.:-]{1,64} proofs=connection lifetime=[1-9][0-9]*'

/** Generous bound for every wait: a test fails instead of hanging. */
export const WAIT_MS = 10_000

/**
 * A server on loopback. Most tests here speak for made-up node ids (`nodeId(n)`) without keys, so this
 * helper allows unsigned commands (`allowUnsigned: true`) unless told otherwise; ownership.test.ts
 * checks the default server, which requires proofs.
 */
export async function startServer(
  options: BootstrapServerOptions = {},
): Promise<{ server: BootstrapServer; port: number }> {
  const server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true, ...options })
  const { port } = await server.listen()
  return { server, port }
}

/** A 40-hex node id from a small number, readable in failures. */
export function nodeId(n: number): string {
  return n.toString(16).padStart(40, '0')
}

export class TestClient {
  readonly con: LineSocket
  /** The server's greeting (its nonce and server id sign proofs). */
  hello!: Extract<ServerMessage, { type: 'HELLO' }>
  /** Answer server PINGs automatically (on by default, as a real client would). */
  autoPong = true
  pings = 0

  private constructor(con: LineSocket) {
    this.con = con
  }

  static async connect(port: number, localAddress = '127.0.0.1'): Promise<TestClient> {
    const con = await connectLine({
      host: '127.0.0.1',
      port,
      localAddress,
      maxLineLength: MAX_SERVER_LINE_LENGTH,
    })
    const client = new TestClient(con)
    const hello = await client.next()
    if (hello.type !== 'HELLO') throw new Error(`expected HELLO, got ${hello.type}`)
    client.hello = hello
    return client
  }

  get localPort(): number {
    return this.con.localPort as number
  }

  send(msg: ClientMessage | string): void {
    this.con.sendLine(typeof msg === 'string' ? msg : formatClientMessage(msg))
  }

  /** The next raw line. */
  line(): Promise<string> {
    return this.con.readLine({ timeout: WAIT_MS })
  }

  /** The next message that is not a PING (PINGs are answered when `autoPong`). */
  async next(): Promise<ServerMessage> {
    for (;;) {
      const msg = parseServerMessage(await this.line())
      if (msg.type !== 'PING') return msg
      this.pings++
      if (this.autoPong) this.send({ type: 'PONG', token: msg.token })
    }
  }

  /** Sends `msg` and returns the next non-PING message. */
  async request(msg: ClientMessage | string): Promise<ServerMessage> {
    this.send(msg)
    return this.next()
  }

  /** Resolves with the close reason; fails the test if it does not close in time. */
  async closed(): Promise<string> {
    const info = await Promise.race([
      this.con.closed,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('connection did not close')), WAIT_MS).unref(),
      ),
    ])
    return info.reason
  }

  close(): void {
    this.con.close()
  }
}

/** Waits until `predicate()` holds, checking on every event-loop turn; fails after WAIT_MS. */
/**
 * `msg` signed by `who` for the connection `on` (its HELLO's nonce and server id), whatever id the
 * message names: the attacks sign for an id that is not theirs (punch's `withProof` would refuse).
 */
export function sign<M extends SignableMessage>(on: TestClient, who: NodeIdentity, msg: M): M {
  const { nonce, serverId } = on.hello
  if (nonce === undefined || serverId === undefined) throw new Error('the HELLO has no nonce/server id')
  const fields = proofFields(nonce, serverId, formatClientMessage(msg))
  const signature = who.sign(RENDEZVOUS_SIGNATURE_CONTEXT, fields).toString('base64url')
  return { ...msg, proof: { publicKey: who.publicKey, signature } }
}

export async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}
