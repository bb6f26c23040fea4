import { spawn } from 'node:child_process'
import debug from 'debug'
import { DEFAULT_EXEC_TIMEOUT_MS } from './constants.js'
import { NetlabError } from './errors.js'
import type { ExecResult } from './types.js'

const log = debug('pyp2p:netlab:cmd')

export interface RunOptions {
  signal?: AbortSignal
  timeout?: number
  input?: string
  env?: NodeJS.ProcessEnv
  /** throw NetlabError.COMMAND_FAILED on a non-zero exit (default false: return the code) */
  check?: boolean
}

/** Runs argv (no shell) to completion and collects its output. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv
  if (file === undefined) return Promise.reject(NetlabError.INVALID_SPEC('empty command'))
  const timeout = opts.timeout ?? DEFAULT_EXEC_TIMEOUT_MS
  const what = `\`${argv.join(' ').slice(0, 200)}\``
  return new Promise<ExecResult>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(NetlabError.ABORTED(what, opts.signal.reason))
      return
    }
    log('%s', argv.join(' '))
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let failure: NetlabError | undefined
    const stop = (e: NetlabError): void => {
      failure ??= e
      child.kill('SIGKILL')
    }
    const timer = setTimeout(() => stop(NetlabError.TIMEOUT(what, timeout)), timeout)
    const onAbort = (): void => stop(NetlabError.ABORTED(what, opts.signal?.reason))
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    // EPIPE when the command exits without reading its input: the exit code says what happened
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
    child.on('error', (e) => {
      failure ??= new NetlabError('ERR_COMMAND_FAILED', `cannot run ${what}: ${e.message}`, { cause: e })
    })
    child.on('close', (code, sig) => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      const res: ExecResult = {
        code: code ?? (sig ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }
      if (failure) reject(failure)
      else if (opts.check && res.code !== 0) reject(NetlabError.COMMAND_FAILED(argv, code, res.stderr))
      else resolve(res)
    })
  })
}

/** `run` with check: resolves with stdout, rejects with the command's stderr on failure. */
export async function runOk(argv: readonly string[], opts: Omit<RunOptions, 'check'> = {}): Promise<string> {
  const res = await run(argv, { ...opts, check: true })
  return res.stdout
}

/** argv prefix that runs a command inside a named network namespace. */
export function inNetns(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv]
}
