/**
 * Command-line options shared by the examples: where the bootstrap server is, which port to listen
 * on, and `--once` (stop after the first exchange instead of looping forever, as the tests run them).
 */
import { parseArgs } from 'node:util'

export interface ExampleArgs {
  /** `host:port` of the bootstrap server. */
  server: string
  /** Address to listen on. */
  bind: string
  port: number
  once: boolean
}

export function exampleArgs(defaultPort: number): ExampleArgs {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.PYP2P_SERVER ?? '127.0.0.1:8000' },
      bind: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(defaultPort) },
      once: { type: 'boolean', default: false },
    },
  })
  return { server: values.server, bind: values.bind, port: Number(values.port), once: values.once }
}
