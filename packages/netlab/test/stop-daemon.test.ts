// stopDaemon (restartUpnp's first step) against real processes: SIGTERM, SIGKILL for one that
// ignores SIGTERM, abort. The grace time runs on vitest's fake setTimeout, so the tests say exactly
// when a signal is sent (or that nothing waits at all) without sleeping or reading the clock.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { stopDaemon } from '../src/daemon.js'
import { ChildProcess } from '../src/process.js'

/** a node process that prints "up" and then waits; with `stubborn` it ignores SIGTERM */
function daemon(stubborn: boolean): ChildProcess {
  const code = `${stubborn ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1 << 30); console.log('up')`
  return new ChildProcess('test daemon', [process.execPath, '-e', code], process.env)
}

/** Fakes only the timers stopDaemon waits with; setImmediate stays real (one event-loop turn). */
function fakeGraceTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
}

/** Resolves after one turn of the event loop: by then every promise chain that needs no timer and no
 * I/O has run to its end. */
function nextTurn(): Promise<'still waiting'> {
  return new Promise((resolve) => setImmediate(() => resolve('still waiting')))
}

describe('stopDaemon', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('ends a daemon with SIGTERM', async () => {
    const d = daemon(false)
    await d.waitForLine(/^up$/)
    await stopDaemon('r', d, 30_000)
    expect(await d.exited).toEqual({ code: null, signal: 'SIGTERM' })
  })

  it('sends SIGKILL to one that ignores SIGTERM, when the grace time is over and not before', async () => {
    const d = daemon(true)
    await d.waitForLine(/^up$/)
    const kills = vi.spyOn(d, 'kill')
    fakeGraceTimers()
    const stopping = stopDaemon('r', d, 100)
    expect(kills.mock.calls).toEqual([['SIGTERM']])
    await vi.advanceTimersByTimeAsync(99)
    expect(kills.mock.calls).toEqual([['SIGTERM']])
    await vi.advanceTimersByTimeAsync(1)
    expect(kills.mock.calls).toEqual([['SIGTERM'], ['SIGKILL']])
    await stopping // the exit (an event, not a timer) ends the second wait
    expect(await d.exited).toEqual({ code: null, signal: 'SIGKILL' })
  })

  it('resolves at once for a daemon that has already exited', async () => {
    const d = daemon(false)
    await d.waitForLine(/^up$/)
    d.kill('SIGKILL')
    await d.exited
    // The grace timers are fake and never advanced: a stopDaemon that waited for any part of its
    // grace time (30 s here) cannot settle before the next turn of the event loop.
    fakeGraceTimers()
    const stopping = stopDaemon('r', d, 30_000).then(() => 'stopped' as const)
    expect(await Promise.race([stopping, nextTurn()])).toBe('stopped')
    expect(vi.getTimerCount()).toBe(0) // and it left no timer behind
  })

  it('rejects with ERR_ABORTED when its signal aborts while it waits', async () => {
    const d = daemon(true)
    await d.waitForLine(/^up$/)
    const ac = new AbortController()
    const stopping = stopDaemon('r', d, 30_000, ac.signal)
    ac.abort()
    await expect(stopping).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    d.kill('SIGKILL')
    expect(await d.exited).toEqual({ code: null, signal: 'SIGKILL' })
  })
})
