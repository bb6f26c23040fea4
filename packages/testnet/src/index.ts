/**
 * @packageDocumentation
 * A local pyp2p network for tests: a bootstrap server, optionally a message relay, and n started
 * `@pyp2p/net` nodes, all on 127.0.0.1, torn down with one `await tn.close()` (or `await using`).
 * Applications built on `@pyp2p/net` test themselves with it, without the internet.
 *
 * @example
 * ```ts
 * import { createTestnet } from '@pyp2p/testnet'
 *
 * await using tn = await createTestnet({ nodes: 2 })
 * const [alice, bob] = tn.nodes
 * await bob!.bootstrap()
 * for (const con of bob!) con.sendLine('hello')
 * for await (const con of alice!) {
 *   console.log(await con.readLine()) // hello
 *   break
 * }
 * ```
 */
export * from './constants.js'
export { TestnetError, type TestnetErrorCode } from './errors.js'
export { createTestnet, type Testnet, type TestnetNodeOptions, type TestnetOptions } from './testnet.js'
