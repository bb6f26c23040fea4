import fc from 'fast-check'
import { FORWARDING_TYPES, NAT_TYPES, NODE_TYPES, type UnlFields } from '../src/types.js'

const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'))
const address = fc.oneof(fc.constant(''), fc.ipV4(), fc.ipV6())

/** Any valid set of UNL fields. */
export const unlFields: fc.Arbitrary<UnlFields> = fc
  .record({
    nodeId: hex40,
    nodeType: fc.constantFrom(...NODE_TYPES),
    natType: fc.constantFrom(...NAT_TYPES),
    forwarding: fc.constantFrom(...FORWARDING_TYPES),
    port: fc.integer({ min: 1, max: 65535 }),
    noPort: fc.boolean(),
    wanAddress: address,
    lanAddress: address,
    externalPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    extensions: fc.uniqueArray(
      fc.record({ type: fc.integer({ min: 2, max: 0x7f }), value: fc.uint8Array({ maxLength: 40 }) }),
      { selector: (e) => e.type, maxLength: 3 },
    ),
  })
  .map(({ noPort, externalPort, extensions, ...f }) => {
    const fields: UnlFields = { ...f, port: noPort && f.nodeType !== 'passive' ? 0 : f.port }
    if (externalPort !== undefined) fields.externalPort = externalPort
    if (extensions.length > 0) fields.extensions = extensions
    return fields
  })
