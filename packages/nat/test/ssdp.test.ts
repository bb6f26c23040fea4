import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ipv4Interfaces } from '../src/address.js'
import { NatError } from '../src/errors.js'
import { buildMSearch, parseSsdpResponse, type SsdpAnswer, ssdpSearch } from '../src/ssdp.js'

const reply = (headers: Record<string, string>) =>
  `HTTP/1.1 200 OK\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`

describe('SSDP messages', () => {
  it('builds an M-SEARCH as UDA 1.1 writes it', () => {
    expect(buildMSearch('urn:schemas-upnp-org:device:InternetGatewayDevice:2')).toBe(
      'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n' +
        'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n\r\n',
    )
    expect(() => buildMSearch('a\r\nEVIL: 1')).toThrow(NatError)
  })

  it('parses a miniupnpd answer', () => {
    const r = parseSsdpResponse(
      reply({
        'CACHE-CONTROL': 'max-age=120',
        ST: 'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
        USN: 'uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:2',
        EXT: '',
        SERVER: 'Debian UPnP/1.1 MiniUPnPd/2.3.1',
        LOCATION: 'http://10.1.0.1:5000/rootDesc.xml',
      }),
    )
    expect(r.st).toBe('urn:schemas-upnp-org:device:InternetGatewayDevice:2')
    expect(r.location.href).toBe('http://10.1.0.1:5000/rootDesc.xml')
    expect(r.server).toContain('MiniUPnPd')
  })

  it('refuses answers without ST, with a non-http or non-IPv4 LOCATION, or a non-200 status', () => {
    for (const bad of [
      reply({ LOCATION: 'http://10.0.0.1/' }),
      reply({ ST: 'x', LOCATION: 'file:///etc/passwd' }),
      reply({ ST: 'x', LOCATION: 'http://example.com/desc.xml' }),
      'NOTIFY * HTTP/1.1\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n\r\n',
      'HTTP/1.1 500 Oops\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n\r\n',
    ]) {
      expect(() => parseSsdpResponse(bad), bad).toThrow(NatError)
    }
  })

  it('round-trips generated answers (property)', () => {
    const token = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/)
    fc.assert(
      fc.property(token, fc.ipV4(), fc.integer({ min: 1, max: 65535 }), token, (st, ip, port, server) => {
        const r = parseSsdpResponse(reply({ St: st, Location: `http://${ip}:${port}/d.xml`, Server: server }))
        expect(r.st).toBe(st)
        expect(r.location.hostname).toBe(ip)
        expect(r.server).toBe(server)
      }),
    )
  })

  it('throws only NatError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          parseSsdpResponse(Buffer.from(bytes))
        } catch (err) {
          expect(err).toBeInstanceOf(NatError)
        }
      }),
    )
  })
})

/** A socket factory that remembers every socket it made and whether it was closed. */
function countingSockets() {
  const made: Array<{ socket: Socket; closed: boolean }> = []
  return {
    made,
    createSocket: (type: 'udp4') => {
      const socket = createSocket(type)
      const rec = { socket, closed: false }
      socket.on('close', () => {
        rec.closed = true
      })
      made.push(rec)
      return socket
    },
  }
}

describe('ssdpSearch (loopback responder)', () => {
  it('sends M-SEARCH from each interface, reports parsed answers, ignores junk, closes its sockets', async () => {
    const responder = createSocket('udp4')
    const seen: string[] = []
    responder.on('message', (msg, rinfo) => {
      seen.push(msg.toString())
      responder.send('garbage', rinfo.port, rinfo.address)
      responder.send(
        reply({ ST: 'urn:test:1', LOCATION: 'http://127.0.0.1:9/d.xml' }),
        rinfo.port,
        rinfo.address,
      )
    })
    await new Promise<void>((resolve) => responder.bind(0, '127.0.0.1', resolve))
    const stop = new AbortController()
    const answers: SsdpAnswer[] = []
    const sockets = countingSockets()
    const interfaces = ipv4Interfaces(['lo'])
    try {
      await ssdpSearch({
        interfaces,
        searchTargets: ['urn:test:1'],
        target: { address: '127.0.0.1', port: (responder.address() as AddressInfo).port },
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]),
        createSocket: sockets.createSocket,
        onAnswer: (a) => {
          answers.push(a)
          stop.abort()
        },
      })
    } finally {
      responder.close()
    }
    expect(seen[0]).toContain('ST: urn:test:1')
    expect(answers).toHaveLength(1)
    expect(answers[0]).toMatchObject({ from: '127.0.0.1', localAddress: '127.0.0.1' })
    // one socket per interface address, every one closed by the time the search resolved
    expect(sockets.made).toHaveLength(interfaces.length)
    expect(sockets.made.every((s) => s.closed)).toBe(true)
  })

  it('returns at once when the signal is already aborted: no socket opened, nothing sent', async () => {
    const sockets = countingSockets()
    let settled = false
    const search = ssdpSearch({
      interfaces: ipv4Interfaces(['lo']),
      searchTargets: ['urn:test:1'],
      target: { address: '127.0.0.1', port: 9 },
      signal: AbortSignal.abort(),
      createSocket: sockets.createSocket,
      onAnswer: () => {},
    }).then(() => {
      settled = true
    })
    // "At once": settled before the event loop's next turn, so before any I/O could have happened.
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(true)
    await search
    expect(sockets.made).toEqual([])
  })

  it('an abort during the search ends it and closes every socket', async () => {
    const sockets = countingSockets()
    const stop = new AbortController()
    const search = ssdpSearch({
      interfaces: ipv4Interfaces(['lo']),
      searchTargets: ['urn:test:1'],
      target: { address: '127.0.0.1', port: 9 },
      signal: stop.signal,
      createSocket: (type) => {
        const socket = sockets.createSocket(type)
        // abort once the search's socket is bound: the search is then waiting for answers
        socket.once('listening', () => setImmediate(() => stop.abort()))
        return socket
      },
      onAnswer: () => {},
    })
    await search
    expect(sockets.made.length).toBeGreaterThan(0)
    expect(sockets.made.every((s) => s.closed)).toBe(true)
  })
})
