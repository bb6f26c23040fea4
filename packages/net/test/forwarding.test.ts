/**
 * forwarding.ts with a user's `natClient`: the gateway search that start() runs beside the reachability
 * probe is our own client's only, so a user's client is not searched (its cached gateways dropped, its
 * searches restarted) nor set to be unmapped at stop() by a start that maps nothing with it. Its
 * `discover`/`unmap` are stubbed so that a regression sends nothing anywhere; mapping for real is the
 * NAT lab's (matrix.lab.test.ts).
 */
import { NatClient } from '@pyp2p/nat'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { forwardPort } from '../src/forwarding.js'
import { resolveNetOptions } from '../src/options.js'

const clients: NatClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
})

describe('forwardPort with a user natClient', () => {
  it('prepare() does not search with it, and nothing is adopted for stop()', async () => {
    const natClient = new NatClient({ interfaces: ['lo'] })
    clients.push(natClient)
    const discover = vi.spyOn(natClient, 'discover').mockResolvedValue([])
    const unmap = vi.spyOn(natClient, 'unmap').mockResolvedValue(undefined)
    let adopted: (() => Promise<void>) | undefined
    const f = forwardPort(resolveNetOptions({ natClient }), 5000, (release) => {
      adopted = release
    })
    await f.prepare(new AbortController().signal)
    expect(discover).not.toHaveBeenCalled()
    expect(adopted).toBeUndefined()
    expect(unmap).not.toHaveBeenCalled()
  })

  it('without one, prepare() searches with a client of its own, released at stop()', async () => {
    let release: (() => Promise<void>) | undefined
    const f = forwardPort(resolveNetOptions({}), 5000, (r) => {
      release = r
    })
    const spy = vi.spyOn(NatClient.prototype, 'discover').mockResolvedValue([])
    try {
      await f.prepare(new AbortController().signal)
      expect(spy).toHaveBeenCalledTimes(1)
      expect(release).toBeDefined() // stop() closes the client it made
    } finally {
      spy.mockRestore()
      await release?.()
    }
  })
})
