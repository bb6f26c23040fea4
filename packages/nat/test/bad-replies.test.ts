// Replies a broken or hostile gateway could send, on every protocol: a typed error (or the datagram
// ignored until a good one comes), never a crash.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_HTTP_BODY_BYTES } from '../src/constants.js'
import { createHttpTransport } from '../src/http-transport.js'
import { natpmpExternalAddress, natpmpMap } from '../src/natpmp-client.js'
import { parseActionResponse } from '../src/soap.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'

type Fake = Awaited<ReturnType<typeof startFakeNatPmp>>
let fake: Fake | undefined
afterEach(() => {
  fake?.close()
  fake = undefined
})

describe('bad SOAP/HTTP replies', () => {
  it('an oversize body is cut off with ERR_INVALID_RESPONSE; a truncated one is malformed XML', async () => {
    const bodies: Record<string, string> = {
      '/huge': `<?xml version="1.0"?><r>${'x'.repeat(MAX_HTTP_BODY_BYTES + 1)}</r>`,
      '/truncated':
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResp',
    }
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(bodies[req.url ?? ''] ?? '')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const t = createHttpTransport('127.0.0.1')
      await expect(t.getXml(`${base}/huge`, {})).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' })
      await expect(t.postXml(`${base}/truncated`, {}, '', {})).rejects.toMatchObject({
        code: 'ERR_INVALID_RESPONSE',
      })
      // an empty body parses to no document, which the action parser refuses
      const empty = await t.getXml(`${base}/empty`, {})
      expect(empty.document).toBeUndefined()
      expect(() => parseActionResponse(empty.document, 'GetExternalIPAddress')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_RESPONSE' }),
      )
    } finally {
      server.close()
    }
  })
})

describe('bad NAT-PMP replies', () => {
  it('oversize and truncated replies are ignored; the retransmission gets the real answer', async () => {
    fake = await startFakeNatPmp()
    const gw = fake
    let first = true
    gw.intercept((msg) => {
      if (!first) return undefined
      first = false
      const op = 128 + (msg[1] ?? 0)
      const oversize = Buffer.alloc(1200)
      oversize[1] = op
      const truncated = Buffer.from([0, op, 0, 0, 0, 0])
      return [oversize, truncated]
    })
    expect(await natpmpExternalAddress(gw.address, { timeout: 5_000 })).toMatchObject({
      address: '11.0.0.100',
    })
  })

  it('a gateway that only ever sends garbage ends in ERR_TIMEOUT, not a crash', async () => {
    fake = await startFakeNatPmp()
    fake.intercept((msg) => [Buffer.from([0, 128 + (msg[1] ?? 0), 0]), Buffer.alloc(2000, 0xff)])
    await expect(
      natpmpMap(
        fake.address,
        { protocol: 'TCP', internalPort: 1, externalPort: 1, ttl: 60 },
        { timeout: 600 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
  })
})
