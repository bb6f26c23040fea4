// An IGD v2 with IPv6 firewall control on ::1 for tests: serves the description captured from
// miniupnpd 2.3.1 (data/rootDesc-igd2-ipv6.xml) and answers AddPinhole / UpdatePinhole /
// DeletePinhole / GetOutboundPinholeTimeout / GetFirewallStatus the way it does (402 for an unknown
// UniqueID, as miniupnpd; 606 when InternalClient is not the asking address), plus an SSDP responder.
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseXml, type XmlElement } from '../../src/xml.js'

const SERVICE = 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1'
const data = (name: string) => readFileSync(new URL(`../data/${name}`, import.meta.url), 'utf8')

export interface FakePinhole {
  internalClient: string
  internalPort: number
  protocol: number
  lease: number
}

function args(body: string): { action: string; fields: Record<string, string> } {
  const find = (e: XmlElement): XmlElement | undefined =>
    e.name.endsWith(':Body') ? e.children[0] : e.children.map(find).find((x) => x !== undefined)
  const call = find(parseXml(body))
  const fields: Record<string, string> = {}
  for (const c of call?.children ?? []) fields[c.name] = c.text
  return { action: (call?.name ?? '').replace(/^.*:/, ''), fields }
}

export async function startFakePinholeIgd(opts: { outboundTimeout?: number; garbage?: string } = {}) {
  const pinholes = new Map<number, FakePinhole>()
  const calls: string[] = []
  let next = 1
  const ok = (action: string, inner = '') =>
    `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:${action}Response xmlns:u="${SERVICE}">${inner}</u:${action}Response></s:Body></s:Envelope>`
  const fault = (code: number, text: string) =>
    `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${text}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`
  const answer = (req: IncomingMessage, body: string): [number, string] => {
    const { action, fields } = args(body)
    calls.push(action)
    if (opts.garbage !== undefined) return [200, opts.garbage]
    const id = Number(fields.UniqueID)
    if (action === 'GetFirewallStatus')
      return [
        200,
        ok(action, '<FirewallEnabled>1</FirewallEnabled><InboundPinholeAllowed>1</InboundPinholeAllowed>'),
      ]
    if (action === 'AddPinhole') {
      const lease = Number(fields.LeaseTime)
      if (!(lease >= 1 && lease <= 86400)) return [500, fault(402, 'Invalid Args')]
      if (fields.InternalClient !== req.socket.remoteAddress)
        return [500, fault(606, 'Action not authorized')]
      const p = {
        internalClient: fields.InternalClient ?? '',
        internalPort: Number(fields.InternalPort),
        protocol: Number(fields.Protocol),
        lease,
      }
      pinholes.set(next, p)
      return [200, ok(action, `<UniqueID>${next++}</UniqueID>`)]
    }
    if (action === 'UpdatePinhole' || action === 'DeletePinhole') {
      const p = pinholes.get(id)
      if (p === undefined) return [500, fault(402, 'Invalid Args')]
      if (action === 'DeletePinhole') pinholes.delete(id)
      else p.lease = Number(fields.NewLeaseTime)
      return [200, ok(action)]
    }
    if (action === 'GetOutboundPinholeTimeout') {
      if (opts.outboundTimeout === undefined) return [500, fault(501, 'ActionFailed')]
      return [200, ok(action, `<OutboundPinholeTimeout>${opts.outboundTimeout}</OutboundPinholeTimeout>`)]
    }
    return [500, fault(401, 'Invalid Action')]
  }
  const http = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8')
    })
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/rootDesc.xml') {
        res.writeHead(200, { 'content-type': 'text/xml' })
        return res.end(data('rootDesc-igd2-ipv6.xml'))
      }
      const [status, text] = answer(req, body)
      res.writeHead(status, { 'content-type': 'text/xml; charset="utf-8"' })
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '::1', resolve))
  const location = `http://[::1]:${(http.address() as AddressInfo).port}/rootDesc.xml`
  const ssdp = createSocket('udp6')
  ssdp.on('message', (msg, rinfo) => {
    if (!msg.toString().startsWith('M-SEARCH')) return
    ssdp.send(
      `HTTP/1.1 200 OK\r\nST: ${SERVICE}\r\nLOCATION: ${location}\r\nUSN: uuid:fake::${SERVICE}\r\n\r\n`,
      rinfo.port,
      rinfo.address,
    )
  })
  await new Promise<void>((resolve) => ssdp.bind(0, '::1', resolve))
  return {
    location,
    ssdpTarget: { address: '::1', port: ssdp.address().port },
    pinholes,
    calls,
    /** forget every pinhole: a router restart */
    restart() {
      pinholes.clear()
    },
    close() {
      http.close()
      http.closeAllConnections()
      ssdp.close()
    },
  }
}
