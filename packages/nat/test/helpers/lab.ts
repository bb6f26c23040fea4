// Shared pieces of the lab tests: run the nat-agent fixture inside a lab host and read its JSON lines.
import { fileURLToPath } from 'node:url'
import type { Lab, LabProcess, LabSpec } from '@pyp2p/netlab'

export const AGENT = fileURLToPath(new URL('../fixtures/nat-agent.ts', import.meta.url))
export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
/** Upper bound of any single wait in the lab tests: generous, so a slow CI machine fails instead of hanging. */
export const WAIT = 30_000

/** A router whose miniupnpd answers NAT-PMP and PCP and that routes IPv6 (pinholes, no NAT), alice
 * behind it, `net` on the internet. */
export const PCP_IPV6_LAB: LabSpec = {
  publicHosts: { net: {} },
  routers: { r1: { nat: 'cone', upnp: 'natpmp', ipv6: true } },
  hosts: { alice: { router: 'r1' } },
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from our own fixture, read by the assertions
export type Event = { event: string; [key: string]: any }

export function events(p: LabProcess, name?: string): Event[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event)
    .filter((e) => name === undefined || e.event === name)
}

/** Waits for the `n`th event called `name` (or the first `error` event, which fails the wait). */
export async function waitEvent(p: LabProcess, name: string, n = 1, timeout = WAIT): Promise<Event> {
  await p.waitForLine(() => events(p, name).length >= n || events(p, 'error').length > 0, { timeout })
  const err = events(p, 'error')[0]
  if (err !== undefined && name !== 'error')
    throw new Error(`fixture error ${err.code}: ${err.message}\n${p.stderr()}`)
  return events(p, name)[n - 1] as Event
}

/** Runs the fixture's one-shot commands (discover, status) and returns its events. */
export async function runAgent(lab: Lab, host: string, args: string[]): Promise<Event[]> {
  const p = lab.spawnNode(host, AGENT, args)
  await p.exited
  return events(p)
}

/** Connects from `host` (e.g. the internet) to ip:port and returns the first line the server sends. */
export async function connectFrom(lab: Lab, host: string, ip: string, port: number): Promise<string> {
  const js = `const s=require('net').connect(${port},${JSON.stringify(ip)});s.setTimeout(10000,()=>{console.error('timeout');process.exit(3)});s.on('data',(d)=>{process.stdout.write(d);process.exit(0)});s.on('error',(e)=>{console.error(e.message);process.exit(2)})`
  const r = await lab.exec(host, [process.execPath, '-e', js], { timeout: WAIT })
  return r.code === 0 ? r.stdout.trim() : `failed(${r.code}): ${r.stderr.trim()}`
}

/** `upnpc -l` against the router's description URL (the reference C client), as text. */
export async function upnpcList(lab: Lab, host: string, router: string): Promise<string> {
  const url = lab.router(router).upnpUrl
  if (url === undefined) throw new Error(`router ${router} has no UPnP`)
  const r = await lab.exec(host, ['upnpc', '-u', url, '-l'], { timeout: WAIT })
  return r.stdout
}

/**
 * The agent's `status` argument that waits for every protocol's search to end: which protocols answer
 * is what the status tests check, and under load the 25 ms discovery grace can end the search before
 * the slower protocol answers.
 */
export const ALL_PROTOCOLS = JSON.stringify({ client: { grace: 60_000 } })
