// The HTTP side of UPnP on Node's own fetch, injected into the patched nat-upnp in place of
// `request` (deprecated, unfixed SSRF advisory). Every request is bounded by a signal, reads at most
// MAX_HTTP_BODY_BYTES, never follows redirects, and may only go to the gateway that answered SSDP.
import createDebug from 'debug'
import { MAX_HTTP_BODY_BYTES } from './constants.js'
import { NatError } from './errors.js'
import { parseXml, type ShapedXml, toShaped } from './xml.js'

const debug = createDebug('pyp2p:nat:http')

export interface XmlReply {
  status: number
  /** the parsed body (root element's content), or undefined when the body was empty or not XML */
  document: ShapedXml | undefined
}

/** The transport interface of the patched nat-upnp (see patches/nat-upnp@1.1.1.patch). */
export interface NatUpnpTransport {
  getXml(url: string, options: { signal?: AbortSignal }): Promise<XmlReply>
  postXml(
    url: string,
    headers: Record<string, string>,
    body: string,
    options: { signal?: AbortSignal },
  ): Promise<XmlReply>
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw NatError.INVALID_RESPONSE('HTTP reply', new Error(`body larger than ${limit} bytes`))
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A transport that talks only to `gatewayAddress` (the host that answered our M-SEARCH): a LOCATION
 * or controlURL pointing elsewhere is refused rather than fetched.
 */
export function createHttpTransport(gatewayAddress: string): NatUpnpTransport {
  function check(url: string): URL {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch (cause) {
      throw NatError.INVALID_RESPONSE('URL', cause)
    }
    // an IPv6 literal's hostname keeps its brackets ('[fd00:1::1]')
    if (parsed.protocol !== 'http:' || parsed.hostname.replace(/^\[(.*)\]$/, '$1') !== gatewayAddress) {
      throw NatError.INVALID_RESPONSE(
        'URL',
        new Error(`${url} is not on the gateway ${gatewayAddress}; refusing to fetch it`),
      )
    }
    return parsed
  }

  async function send(url: string, init: RequestInit): Promise<XmlReply> {
    const target = check(url)
    const res = await fetch(target, { ...init, redirect: 'error' })
    const text = await readLimited(res, MAX_HTTP_BODY_BYTES)
    let document: ShapedXml | undefined
    if (text.trim() !== '') {
      try {
        document = toShaped(parseXml(text))
      } catch (err) {
        if (res.status === 200) throw err
        debug('non-XML body with status %d from %s', res.status, url)
      }
    }
    return { status: res.status, document }
  }

  return {
    getXml(url, options) {
      return send(url, { method: 'GET', ...(options.signal ? { signal: options.signal } : {}) })
    },
    postXml(url, headers, body, options) {
      // fetch sets Content-Length and manages the connection itself.
      const clean: Record<string, string> = {}
      for (const [k, v] of Object.entries(headers)) {
        if (!/^(content-length|connection)$/i.test(k)) clean[k] = v
      }
      return send(url, {
        method: 'POST',
        headers: clean,
        body,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    },
  }
}
