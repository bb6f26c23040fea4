// A long-running command inside a namespace: stdout as lines, waits for a line, exit and kill.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import debug from 'debug'
import { DEFAULT_WAIT_TIMEOUT_MS } from './constants.js'
import { NetlabError } from './errors.js'
import type { LabProcess } from './types.js'

const log = debug('pyp2p:netlab:proc')

type Exit = { code: number | null; signal: NodeJS.Signals | null }

/** Splits a byte stream into lines (\n or \r\n), keeping a partial last line until it completes. */
class LineSplitter {
  private rest = ''
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n')
    this.rest = parts.pop() ?? ''
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  }
  end(): string[] {
    const last = this.rest
    this.rest = ''
    return last === '' ? [] : [last]
  }
}

export class ChildProcess implements LabProcess {
  readonly pid: number
  readonly exited: Promise<Exit>
  private readonly child: ChildProcessWithoutNullStreams
  private readonly lineList: string[] = []
  private out = ''
  private err = ''
  private stdoutDone = false
  private exit: Exit | undefined
  /** woken on every new line, on stdout end and on exit */
  private waiters = new Set<() => void>()

  constructor(
    readonly label: string,
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd?: string,
  ) {
    const [file, ...args] = argv
    if (file === undefined) throw NetlabError.INVALID_SPEC('empty command')
    log('spawn %s: %s', label, argv.join(' '))
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env, ...(cwd ? { cwd } : {}) })
    let spawnError: Error | undefined
    this.exited = new Promise<Exit>((resolve) => {
      this.child.on('error', (e) => {
        spawnError = e
        this.err += `cannot start: ${e.message}\n`
      })
      this.child.on('close', (code, signal) => {
        this.exit = { code: spawnError && code === null ? -1 : code, signal }
        log('exit %s (%d): code %s signal %s', label, this.pid, code, signal)
        this.wake()
        resolve(this.exit)
      })
    })
    this.pid = this.child.pid ?? -1
    this.child.stdin.on('error', () => {})
    const split = new LineSplitter()
    this.child.stdout.setEncoding('utf8')
    this.child.stderr.setEncoding('utf8')
    this.child.stdout.on('data', (s: string) => {
      this.out += s
      for (const line of split.push(s)) this.lineList.push(line)
      this.wake()
    })
    this.child.stdout.on('end', () => {
      for (const line of split.end()) this.lineList.push(line)
      this.stdoutDone = true
      this.wake()
    })
    this.child.stderr.on('data', (s: string) => {
      this.err += s
      this.wake()
    })
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** true once the process has exited (and its output has been read to the end) */
  get hasExited(): boolean {
    return this.exit !== undefined
  }

  get lines(): AsyncIterable<string> {
    return { [Symbol.asyncIterator]: () => this.iterate() }
  }

  /** Every stdout line from the first one, then the new ones as they come; ends with stdout. */
  private async *iterate(): AsyncGenerator<string> {
    let i = 0
    for (;;) {
      while (i < this.lineList.length) yield this.lineList[i++] as string
      if (this.stdoutDone || this.exit !== undefined) {
        while (i < this.lineList.length) yield this.lineList[i++] as string
        return
      }
      await new Promise<void>((resolve) => {
        const w = (): void => {
          this.waiters.delete(w)
          resolve()
        }
        this.waiters.add(w)
      })
    }
  }

  waitForLine(
    match: RegExp | ((line: string) => boolean),
    opts: { signal?: AbortSignal; timeout?: number } = {},
  ): Promise<string> {
    return this.waitFor(
      `a stdout line matching ${String(match)}`,
      () => {
        const test = typeof match === 'function' ? match : (l: string) => match.test(l)
        return this.lineList.find(test)
      },
      opts,
    )
  }

  /** Waits for a line of stderr (daemons such as miniupnpd log there). Searches from the first line. */
  waitForStderr(match: RegExp, opts: { signal?: AbortSignal; timeout?: number } = {}): Promise<string> {
    return this.waitFor(
      `a stderr line matching ${String(match)}`,
      () => this.err.split('\n').find((l) => match.test(l)),
      opts,
    )
  }

  /** Resolves with find()'s first defined answer; rejects on exit, abort or timeout. */
  private waitFor(
    what: string,
    find: () => string | undefined,
    opts: { signal?: AbortSignal; timeout?: number },
  ): Promise<string> {
    const timeout = opts.timeout ?? DEFAULT_WAIT_TIMEOUT_MS
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const done = (fn: () => void): void => {
        this.waiters.delete(check)
        if (timer) clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        fn()
      }
      const check = (): void => {
        const hit = find()
        if (hit !== undefined) done(() => resolve(hit))
        else if (this.exit !== undefined) {
          const { code, signal } = this.exit
          done(() => reject(NetlabError.PROCESS_EXITED(`${this.label} (${what})`, code, signal, this.err)))
        }
      }
      const onAbort = (): void =>
        done(() => reject(NetlabError.ABORTED(`waiting for ${what}`, opts.signal?.reason)))
      if (opts.signal?.aborted) {
        onAbort()
        return
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      timer = setTimeout(
        () => done(() => reject(NetlabError.TIMEOUT(`${this.label}: waiting for ${what}`, timeout))),
        timeout,
      )
      this.waiters.add(check)
      check()
    })
  }

  stdout(): string {
    return this.out
  }

  stderr(): string {
    return this.err
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exit !== undefined || this.pid < 0) return
    try {
      process.kill(this.pid, signal)
    } catch (e) {
      // ESRCH: it exited between our check and the kill
      log('kill %d: %s', this.pid, (e as Error).message)
    }
  }

  /** Writes to the process's stdin. */
  write(data: string): void {
    this.child.stdin.write(data)
  }
}
