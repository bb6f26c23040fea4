// Where IPv6 pinholes are asked for: the gateway the caller named, or the IPv6 default route, with our
// address on that link (a global one: a pinhole for a link-local address would be of no use).
import { NatError } from './errors.js'
import { defaultRoutes } from './route-table.js'

export interface Ipv6Gateway {
  /** the gateway's address; a link-local one carries its zone ('fe80::1%eth0') */
  address: string
  /** our address to open; default our non-link-local IPv6 address on the gateway's link */
  localAddress?: string
  /** its PCP port; default 5351 */
  port?: number
  /** its UPnP description URL with an IPv6 host ('http://[fd00:1::1]:5000/rootDesc.xml'), for IGD v2
   * pinholes without an SSDP search over IPv6; default: searched */
  upnpLocation?: string
}

export async function resolveIpv6Gateway(
  given: Ipv6Gateway | undefined,
  signal?: AbortSignal,
): Promise<Ipv6Gateway & { localAddress: string }> {
  if (given?.localAddress !== undefined) return { ...given, localAddress: given.localAddress }
  const routes = (await defaultRoutes(signal ? { signal } : {})).filter((r) => r.family === 6)
  const route =
    given === undefined ? routes[0] : (routes.find((r) => r.gateway === given.address) ?? routes[0])
  const localAddress = route?.localAddress
  if (route === undefined || localAddress === undefined || localAddress.startsWith('fe80')) {
    throw NatError.NO_GATEWAY(0, 'IPv6 (no IPv6 default route with a global address of ours)')
  }
  return {
    address: given?.address ?? route.gateway,
    localAddress,
    ...(given?.port !== undefined ? { port: given.port } : {}),
    ...(given?.upnpLocation !== undefined ? { upnpLocation: given.upnpLocation } : {}),
  }
}
