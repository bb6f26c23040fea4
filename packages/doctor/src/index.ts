/**
 * @pyp2p/doctor: tells a user why peers can or cannot reach this machine. It asks the router which
 * port mapping protocols it speaks (PCP, NAT-PMP, UPnP IGD v1/v2) and how fast, reads the external
 * address(es) and notices double NAT and carrier-grade NAT, makes and removes a test mapping, checks
 * hairpinning, and, with a @pyp2p/bootstrap-server, how the NAT maps and filters; then gives a
 * plain-language verdict with its reasons.
 *
 * ```ts
 * import { formatReport, runDoctor } from '@pyp2p/doctor'
 *
 * const report = await runDoctor({ server: { host: 'rendezvous.example.org', port: 8000 } })
 * console.log(formatReport(report)) // or JSON.stringify(report): the documented pyp2p-doctor/1 object
 * ```
 *
 * From a shell: `npx @pyp2p/doctor --server host:port [--json]`.
 *
 * @packageDocumentation
 */

export * as constants from './constants.js'
export { type DoctorOptions, runDoctor } from './doctor.js'
export { DoctorError, type DoctorErrorCode } from './errors.js'
export { type ExternalSources, externalFindings } from './external.js'
export { formatReport } from './format.js'
export { parseServer } from './nat-check.js'
export type {
  CheckResult,
  CheckStatus,
  DoctorReport,
  ExternalAddressSeen,
  ProtocolResult,
  UpnpResult,
} from './report.js'
export { verdictOf } from './verdict.js'
