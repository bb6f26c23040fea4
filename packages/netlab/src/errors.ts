/** Errors of the NAT lab; `code` is stable, the message says what to do. */
export class NetlabError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetlabError'
    this.code = code
  }

  static NOT_READY(reason: string): NetlabError {
    return new NetlabError('ERR_LAB_NOT_READY', `the NAT lab cannot run here: ${reason}`)
  }

  static INVALID_SPEC(what: string): NetlabError {
    return new NetlabError('ERR_INVALID_SPEC', `invalid lab spec: ${what}`)
  }

  static UNKNOWN_NODE(name: string, known: readonly string[]): NetlabError {
    return new NetlabError(
      'ERR_UNKNOWN_NODE',
      `no host or router named "${name}" in this lab (known: ${known.join(', ') || 'none'})`,
    )
  }

  static COMMAND_FAILED(argv: readonly string[], code: number | null, stderr: string): NetlabError {
    return new NetlabError(
      'ERR_COMMAND_FAILED',
      `\`${argv.join(' ').slice(0, 300)}\` failed (exit ${code ?? 'signal'}): ${stderr.trim().slice(-2000)}`,
    )
  }

  static TIMEOUT(what: string, ms: number): NetlabError {
    return new NetlabError('ERR_TIMEOUT', `${what} did not finish within ${ms} ms`)
  }

  static ABORTED(what: string, cause?: unknown): NetlabError {
    return new NetlabError('ERR_ABORTED', `${what} was aborted`, { cause })
  }

  static PROCESS_EXITED(
    what: string,
    code: number | null,
    signal: string | null,
    stderr: string,
  ): NetlabError {
    return new NetlabError(
      'ERR_PROCESS_EXITED',
      `${what} exited (code ${code}, signal ${signal}) before the awaited line; stderr: ${stderr.trim().slice(-2000)}`,
    )
  }

  static UPNP_FAILED(router: string, detail: string, cause?: unknown): NetlabError {
    return new NetlabError('ERR_UPNP_FAILED', `miniupnpd in router "${router}" did not start: ${detail}`, {
      cause,
    })
  }

  static NO_UPNP(router: string): NetlabError {
    return new NetlabError(
      'ERR_NO_UPNP',
      `router "${router}" runs no miniupnpd; give it \`upnp: 'igd2+natpmp'\` (or another mode) in the lab spec`,
    )
  }

  static CLOSED(): NetlabError {
    return new NetlabError('ERR_LAB_CLOSED', 'the lab is closed (or closing); create a new one')
  }
}
