/**
 * Issue 18: a node's admission refusal ends a connect to it, whatever method it came by.
 * - Our own node refusing the peer's answer to our reverse-connect request (a duplicate of the
 *   connection both keep, when two nodes ask each other at once) ends that connect at once: the peer
 *   acts on a request once, so waiting only burnt the whole deadline (the ten-node lab bootstrap whose
 *   `bootstrap()` did not end).
 * - A peer's refusal (`ERR_PEER_FULL`, `ERR_DUPLICATE`, `ERR_SELF`) is final: the methods after it are
 *   reported as not tried, not run (another method reaches the same node and its same answer).
 */
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { FINAL_REFUSALS, finalRefusal } from '../src/connect-run.js'
import {
  type AdmissionRefusal,
  type ConnectorAdmission,
  type IncomingConnection,
  isMaster,
  UnlError,
} from '../src/index.js'
import { loopbackNodes, WAIT } from './loopback-nodes.js'

const { startNode } = loopbackNodes()

type Admit = (r: ConnectorAdmission) => AdmissionRefusal | undefined

/** A node on its own loopback address with the relay as transport; passive ones listen there. */
const node = (wan: string, passive: boolean, admit?: Admit) =>
  startNode({ wan, nodeType: passive ? 'passive' : 'active', ...(admit !== undefined && { admit }) })

const failure = (p: Promise<unknown>): Promise<UnlError> =>
  p.then(
    () => {
      throw new Error('expected the connect to fail')
    },
    (e: unknown) => e as UnlError,
  )

describe('our admission refuses the answer to our reverse-connect request', () => {
  it('the connect ends with that refusal at once, not at its deadline (ERR_CONNECT_FAILED, not TIMEOUT)', async () => {
    const asked: ConnectorAdmission[] = []
    // a already keeps another connection to b (the survivor rule): it refuses b's answer.
    const a = await node('127.0.0.2', true, (r) => {
      asked.push(r)
      return { code: 'ERR_DUPLICATE', text: 'already connected to this node (one connection per node)' }
    })
    const b = await node('127.0.0.3', false)
    const refused = once(b.connector, 'refused', { signal: AbortSignal.timeout(WAIT) })
    // Without the fix: the reverse attempt waits for an answer that never comes, ERR_CONNECT_TIMEOUT.
    const err = await failure(a.connector.connect(b.unl, { timeout: WAIT }))
    expect(asked).toMatchObject([{ nodeId: b.unl.nodeId, answer: true }])
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    expect(err.attempts?.find((x) => x.method === 'reverse')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NOT_ADMITTED', refusal: 'ERR_DUPLICATE' },
    })
    // b's dial was told the refusal too
    expect((await refused)[0]).toMatchObject({
      error: { code: 'ERR_PEER_REFUSED', refusal: 'ERR_DUPLICATE' },
    })
  })

  it('an answer we admit still completes the connect (the refusal hook changes nothing else)', async () => {
    const a = await node('127.0.0.2', true, () => undefined)
    const b = await node('127.0.0.3', false)
    const dialled = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(result.method).toBe('reverse')
    const [theirs] = (await dialled) as [IncomingConnection]
    theirs.connection.sendLine('answered')
    expect(await result.connection.readLine({ timeout: WAIT })).toBe('answered')
    theirs.connection.close()
    result.connection.close()
  })
})

describe("a peer's admission refusal is final for that peer", () => {
  for (const code of ['ERR_PEER_FULL', 'ERR_DUPLICATE', 'ERR_SELF'] as const) {
    it(`${code}: the methods after the refused one are not tried`, async () => {
      // Both refuse every connection but an answer to their own reverse request: a reverse connect,
      // if tried after the refused dial, would succeed.
      const admit: Admit = (r) => (r.answer ? undefined : { code, text: 'no' })
      const x = await node('127.0.0.2', true, admit)
      const y = await node('127.0.0.3', true, admit)
      // The master dials first and asks for a reverse connect second (connect-plan.ts).
      const [from, to] = isMaster(x.unl, y.unl) ? [x, y] : [y, x]
      const err = await failure(from.connector.connect(to.unl, { timeout: WAIT }))
      expect(err.code).toBe('ERR_CONNECT_FAILED')
      const [dial, reverse] = err.attempts ?? []
      expect(dial).toMatchObject({ method: 'direct', ok: false, error: { refusal: code } })
      expect(reverse).toMatchObject({ method: 'reverse', ok: false, skipped: true })
      expect(reverse?.error?.message).toMatch(
        new RegExp(`not tried: the node refused the connection \\(${code}\\)`),
      )
    })
  }

  it('ERR_NOT_READY (starting or stopping) and other failures are not final', () => {
    expect(FINAL_REFUSALS).toEqual(['ERR_PEER_FULL', 'ERR_DUPLICATE', 'ERR_SELF'])
    expect(finalRefusal(UnlError.PEER_REFUSED('ERR_NOT_READY', 'starting'))).toBeUndefined()
    expect(finalRefusal(UnlError.PEER_REFUSED('ERR_DUPLICATE', 'x'))).toBe('ERR_DUPLICATE')
    expect(finalRefusal(UnlError.NOT_ADMITTED('ab'.repeat(20), 'ERR_PEER_FULL', 'x'))).toBe('ERR_PEER_FULL')
    expect(finalRefusal(new Error('ECONNREFUSED'))).toBeUndefined()
  })
})
