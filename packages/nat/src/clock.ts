/** Time as this package reads it: the project's one Clock (inject one to drive expiry and epoch checks in tests). */
export { type Clock, systemClock } from '@pyp2p/limits'
