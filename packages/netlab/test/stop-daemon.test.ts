// stopDaemon (restartUpnp's first step) against real processes: SIGTERM, SIGKILL for one that
// ignores SIGTERM, abort.
import { describe, expect, it } from 'vitest'
import { ChildProcess } from '../src/process.js'
import { stopDaemon } from '../src/upnp-daemon.js'

/** a node process that prints "up" and then waits; with `stubborn` it ignores SIGTERM */
function daemon(stubborn: boolean): ChildProcess {
  const code = `${stubborn ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1 << 30); console.log('up')`
  return new ChildProcess('test daemon', [process.execPath, '-e', code], process.env)
}

describe('stopDaemon', () => {
  it('ends a daemon with SIGTERM', async () => {
    const d = daemon(false)
    await d.waitForLine(/^up$/)
    await stopDaemon('r', d, 30_000)
    expect(await d.exited).toEqual({ code: null, signal: 'SIGTERM' })
  })

  it('sends SIGKILL to one that ignores SIGTERM past the grace time', async () => {
    const d = daemon(true)
    await d.waitForLine(/^up$/)
    await stopDaemon('r', d, 100)
    expect(await d.exited).toEqual({ code: null, signal: 'SIGKILL' })
  })

  it('resolves at once for a daemon that has already exited', async () => {
    const d = daemon(false)
    await d.waitForLine(/^up$/)
    d.kill('SIGKILL')
    await d.exited
    await stopDaemon('r', d, 30_000)
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
