/** Every number `@pyp2p/testnet` uses. */

/** Nodes started by `createTestnet()` when `nodes` is not given (hyperdht's testnet also starts 3). */
export const DEFAULT_NODES = 3

/** The address everything binds: loopback only, so a testnet never sends a packet off this host. */
export const LOOPBACK = '127.0.0.1'

/** Upper bound on `nodes` (each node holds a listener, a server connection and maybe a relay one). */
export const MAX_NODES = 256

/**
 * `CHECK`s (dial-back) the testnet's server lets one IP start in a burst. All nodes share 127.0.0.1 and
 * each checks its port once at start; the server's default (5) would make the sixth node fall back to
 * the observed-address probe.
 */
export const TESTNET_CHECK_BURST = 4 * MAX_NODES
