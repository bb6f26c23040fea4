/**
 * Which key a Net runs with (`identity` option, key file, relay transport, or a new one), checked
 * against the node ids the other options name.
 */
import type { MessageTransport } from '@pyp2p/dht-msg'
import { NodeIdentity } from '@pyp2p/identity'
import { NetError } from './errors.js'
import { checkNodeId, type ResolvedNetOptions } from './options.js'

/**
 * The `identity` option (a key file is loaded, or created with mode 0600), else a `dhtNode`
 * transport's own (a RelayClient's), else a new key. Throws `ERR_NODE_ID_MISMATCH` when secure and a
 * `nodeId` option or the transport's node id is not the key's, and IdentityError for a bad key file.
 */
export async function resolveIdentity(
  o: ResolvedNetOptions,
  transport: MessageTransport | undefined,
): Promise<NodeIdentity> {
  const own = (transport as { identity?: unknown } | undefined)?.identity
  const identity =
    o.identity instanceof NodeIdentity
      ? o.identity
      : typeof o.identity === 'string'
        ? await NodeIdentity.load(o.identity, { create: true })
        : own instanceof NodeIdentity
          ? own
          : NodeIdentity.generate()
  checkNodeId(o.nodeId, identity.nodeId, o.secure)
  if (o.secure && transport !== undefined && transport.nodeId !== identity.nodeId) {
    throw NetError.NODE_ID_MISMATCH('the dhtNode transport', transport.nodeId, identity.nodeId)
  }
  return identity
}
