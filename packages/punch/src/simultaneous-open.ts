/**
 * The simultaneous-open engine: connect from one dedicated local port to the peer's address at each of
 * its predicted ports, retry each after RST/ECONNREFUSED (routers that reset unsolicited SYNs), and keep
 * the first socket that connects. Every other socket and timer is gone when the promise settles.
 *
 * Node binds the local port with SO_REUSEADDR (libuv does so for every explicit bind), so several
 * connecting sockets may share the port, and a port whose earlier connection sits in TIME_WAIT can be
 * bound again; it fails with EADDRINUSE only while a `net.Server` listens on it (`docs/lab.md`).
 *
 * No timer gives up on a socket before the event loop has polled for I/O (`afterPoll`): a timer that
 * fires late (a busy loop) runs before the poll phase of its turn, so a connection the kernel completed
 * in the meantime would be destroyed unseen; the peer, whose SYN-ACK or ACK did arrive, reports a
 * punched connection that closes during its handshake (issue 18: one end "punched", the other "failed").
 */
import { isIPv6, type Socket, connect as tcpConnect } from 'node:net'
import createDebug from 'debug'
import {
  BIND_RETRY_GAP_MS,
  FIRST_RETRY_GAP_MS,
  MAX_PUNCH_ATTEMPTS,
  PUNCH_TIMEOUT_MS,
  RETRY_GAP_MS,
  SYN_RETRANSMIT_MS,
} from './constants.js'
import { PunchError } from './errors.js'

const log = createDebug('pyp2p:punch')

/** Socket errors after which the same connect is tried again: the peer's side was not open yet. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])
/** Local bind/connect races (the previous socket on the port is still being released). */
const BIND_RACE = new Set(['EADDRINUSE', 'EADDRNOTAVAIL'])
/** Consecutive bind races on one port before it is given up: a listener really holds the port. */
const MAX_BIND_RACES = 5
/** Below this, a pause is made by yielding to the event loop instead of a timer (1 ms resolution). */
const TIMER_GRANULARITY_MS = 2
/** Loop turns a timer's decision may wait for a quick one (see `afterPoll`). */
const MAX_DECISION_TURNS = 8

export interface SimultaneousOpenOptions {
  /** The peer's external address. */
  host: string
  /** The peer's predicted external ports, tried in parallel; own mapping i pairs with port i. */
  ports: readonly number[]
  /**
   * The dedicated local port (its external mapping is what the peer was told). `0`: any port, a new
   * one per attempt (for a host without NAT connecting to a listener).
   */
  localPort: number
  /** Local address to bind; default `0.0.0.0` (or `::` for an IPv6 peer). */
  localAddress?: string
  /** Connect attempts per port. Default {@link MAX_PUNCH_ATTEMPTS}. */
  maxAttempts?: number
  /** Total time in ms. Default {@link PUNCH_TIMEOUT_MS}. */
  timeout?: number
  /** Pause after a refused attempt in ms (0 = as soon as the RST arrived). Default {@link RETRY_GAP_MS}. */
  retryGap?: number
  /**
   * Pause after the *first* refusal on a port, in ms. Default {@link FIRST_RETRY_GAP_MS}: a refusal that
   * early means our SYN beat the peer's; retrying before the peer has fired only earns another RST.
   */
  firstRetryGap?: number
  /**
   * An attempt neither refused nor connected after this many ms is replaced by a fresh one (our own SYN
   * retransmit, sooner than the kernel's 1 s). Keep it above the path's round trip: a replaced socket
   * that the peer's SYN had met keeps the port pair, and every later attempt fails with EADDRNOTAVAIL
   * (fight.ts sets it from the server RTT). Default {@link SYN_RETRANSMIT_MS}.
   */
  attemptTimeout?: number
  /**
   * Add a random pause of up to one attempt's round trip before each retry (default `true`), so two
   * sides retrying at the same rate do not stay in lockstep.
   */
  jitter?: boolean
  signal?: AbortSignal
  /** Called as each connect attempt starts (diagnostics, tests): the peer port and its attempt number. */
  onAttempt?: (port: number, attempt: number) => void
}

export interface SimultaneousOpenResult {
  /** The connected socket (no listeners of ours left on it). */
  socket: Socket
  /** The peer port that answered. */
  port: number
  /** Connect attempts made on that port, the successful one included. */
  attempts: number
  /** Connect attempts made on all ports. */
  totalAttempts: number
  /** From the first SYN to the connection, in ms. */
  durationMs: number
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw PunchError.INVALID_ARGUMENT(`${what} ${port} is not a port 1..65535`)
  }
}

/**
 * Runs the simultaneous open. Rejects with a `PunchError` of stage `punch`: `ERR_PUNCH_FAILED` when
 * every port ran out of attempts or the time is up (the last socket error is the `cause`), `ERR_ABORTED`
 * when `signal` fires.
 */
export function simultaneousOpen(options: SimultaneousOpenOptions): Promise<SimultaneousOpenResult> {
  const {
    host,
    ports,
    localPort,
    maxAttempts = MAX_PUNCH_ATTEMPTS,
    timeout = PUNCH_TIMEOUT_MS,
    retryGap = RETRY_GAP_MS,
    firstRetryGap = FIRST_RETRY_GAP_MS,
    attemptTimeout = SYN_RETRANSMIT_MS,
    jitter = true,
    signal,
    onAttempt,
  } = options
  const localAddress = options.localAddress ?? (isIPv6(host) ? '::' : '0.0.0.0')
  try {
    if (localPort !== 0) checkPort('local port', localPort)
    if (ports.length === 0) throw PunchError.INVALID_ARGUMENT('no peer ports to connect to')
    for (const p of ports) checkPort('peer port', p)
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw PunchError.INVALID_ARGUMENT(`maxAttempts ${maxAttempts}`)
    if (!Number.isInteger(timeout) || timeout < 1) throw PunchError.INVALID_ARGUMENT(`timeout ${timeout}`)
    if (!(retryGap >= 0)) throw PunchError.INVALID_ARGUMENT(`retryGap ${retryGap}`)
    if (!(firstRetryGap >= 0)) throw PunchError.INVALID_ARGUMENT(`firstRetryGap ${firstRetryGap}`)
    if (!(attemptTimeout > 0)) throw PunchError.INVALID_ARGUMENT(`attemptTimeout ${attemptTimeout}`)
  } catch (err) {
    return Promise.reject(err)
  }
  if (signal?.aborted) return Promise.reject(PunchError.ABORTED('punch', signal.reason))

  return new Promise((resolve, reject) => {
    const started = performance.now()
    const sockets = new Set<Socket>()
    const timers = new Set<NodeJS.Timeout>()
    const immediates = new Set<NodeJS.Immediate>()
    // Decides only after a quick turn of the loop (timers, then poll, then check): the poll phase has
    // then delivered every connection the kernel completed before the decision.
    const afterPoll = (fn: () => void): void => {
      let since = performance.now()
      let turns = 0
      const turn = (): void => {
        immediates.delete(i)
        if (settled) return
        const now = performance.now()
        // A slow turn (other callbacks ran long) may have hidden a completion: look again (bounded,
        // so a loop that stays busy still gets its decision).
        if (now - since > TIMER_GRANULARITY_MS && ++turns < MAX_DECISION_TURNS) {
          since = now
          i = setImmediate(turn)
          immediates.add(i)
          return
        }
        fn()
      }
      let i = setImmediate(turn)
      immediates.add(i)
    }
    const deadline = setTimeout(() => afterPoll(() => fail('no connection within the time limit')), timeout)
    let settled = false
    let totalAttempts = 0
    let lastError: Error | undefined
    let portsLeft = ports.length

    const cleanup = (): void => {
      settled = true
      clearTimeout(deadline)
      for (const t of timers) clearTimeout(t)
      for (const i of immediates) clearImmediate(i)
      timers.clear()
      immediates.clear()
      for (const s of sockets) s.destroy()
      sockets.clear()
      signal?.removeEventListener('abort', onAbort)
    }
    const fail = (why: string): void => {
      if (settled) return
      cleanup()
      const ms = performance.now() - started
      log('simultaneous open to %s %o failed: %s (%d attempts)', host, ports, why, totalAttempts)
      reject(PunchError.PUNCH_FAILED(why, totalAttempts, ms, lastError))
    }
    const onAbort = (): void => {
      if (settled) return
      cleanup()
      reject(PunchError.ABORTED('punch', signal?.reason))
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    // Sub-millisecond pauses: timers have 1 ms granularity, so yield to the event loop until it is time.
    const later = (fn: () => void, gap: number): void => {
      if (gap < TIMER_GRANULARITY_MS) {
        const until = performance.now() + gap
        const turn = (): void => {
          immediates.delete(i)
          if (settled) return
          if (performance.now() >= until) {
            fn()
            return
          }
          i = setImmediate(turn)
          immediates.add(i)
        }
        let i = setImmediate(turn)
        immediates.add(i)
      } else {
        const t = setTimeout(() => {
          timers.delete(t)
          fn()
        }, gap)
        timers.add(t)
      }
    }

    const run = (port: number): void => {
      let attempts = 0
      let bindRaces = 0
      let refusals = 0
      const giveUp = (why: string): void => {
        portsLeft--
        log('port %d given up: %s', port, why)
        if (portsLeft === 0) fail(`every predicted port failed (last: ${why})`)
      }
      const attempt = (): void => {
        if (settled) return
        if (attempts >= maxAttempts) {
          giveUp(`${attempts} attempts refused`)
          return
        }
        attempts++
        totalAttempts++
        onAttempt?.(port, attempts)
        const sent = performance.now()
        const socket = tcpConnect(localPort === 0 ? { host, port } : { host, port, localPort, localAddress })
        sockets.add(socket)
        const stale = setTimeout(() => {
          timers.delete(stale)
          afterPoll(() => {
            if (socket.destroyed || !socket.connecting) return
            // Our SYN (or its answer) was dropped somewhere: send a fresh one rather than wait for the
            // kernel's retransmit.
            sockets.delete(socket)
            socket.destroy()
            attempt()
          })
        }, attemptTimeout)
        timers.add(stale)
        socket.once('connect', () => {
          clearTimeout(stale)
          timers.delete(stale)
          if (settled) return
          sockets.delete(socket)
          socket.removeAllListeners('error')
          const durationMs = performance.now() - started
          cleanup()
          log(
            'connected to %s:%d from %d after %d attempts, %d ms',
            host,
            port,
            localPort,
            attempts,
            durationMs,
          )
          resolve({ socket, port, attempts, totalAttempts, durationMs })
        })
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(stale)
          timers.delete(stale)
          sockets.delete(socket)
          socket.destroy()
          if (settled) return
          lastError = err
          const code = err.code ?? ''
          if (BIND_RACE.has(code)) {
            bindRaces++
            if (bindRaces > MAX_BIND_RACES) return giveUp(`local port ${localPort}: ${code}`)
            return later(attempt, BIND_RETRY_GAP_MS)
          }
          bindRaces = 0
          // Both sides retry once per round trip: without a random pause their SYNs would keep the same
          // offset for ever (lockstep) and never cross in the window where both routers have the mapping.
          if (RETRYABLE.has(code)) {
            if (refusals++ === 0) return later(attempt, firstRetryGap)
            return later(attempt, retryGap + (jitter ? Math.random() * (performance.now() - sent) : 0))
          }
          giveUp(`${code || err.message}`)
        })
      }
      attempt()
    }
    // In order: for a delta NAT the mappings are allocated in the order the SYNs leave.
    for (const port of ports) run(port)
  })
}
