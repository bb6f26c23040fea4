// Types for the patched nat-upnp and nat-pmp (patches/*.patch), only as far as we use them. The
// modules themselves are wrapped once, in upnp-client.ts and natpmp-client.ts.
declare module 'nat-upnp' {
  export interface NatUpnpDevice {
    run(
      action: string,
      args: Array<[string, string | number | undefined]>,
      callback: (err: (Error & { statusCode?: number; document?: unknown }) | null, body?: unknown) => void,
      options?: { signal?: AbortSignal },
    ): void
    getService(
      types: string[],
      callback: (err: Error | null, info?: { service: string; SCPDURL: string; controlURL: string }) => void,
      options?: { signal?: AbortSignal },
    ): void
    services: string[]
  }
  const nat: {
    device: {
      create(url: string, options: { transport: unknown }): NatUpnpDevice
      SERVICE_TYPES: string[]
    }
  }
  export default nat
}

declare module 'nat-pmp' {
  import type { EventEmitter } from 'node:events'
  export interface NatPmpError extends Error {
    code?: number | string
    epoch?: number
  }
  export type NatPmpCallback = (err: NatPmpError | null, info?: unknown) => void
  export interface NatPmpClient extends EventEmitter {
    externalIp(cb: NatPmpCallback): void
    portMapping(
      opts: { type: 'tcp' | 'udp'; private: number; public: number; ttl: number },
      cb: NatPmpCallback,
    ): void
    portUnmapping(opts: { type: 'tcp' | 'udp'; private: number; public: number }, cb: NatPmpCallback): void
    close(): void
    /** the client's UDP socket; null once closed */
    socket: import('node:dgram').Socket | null
  }
  const natpmp: {
    connect(
      gateway: string,
      options?: { port?: number; initialRetry?: number; maxTries?: number },
    ): NatPmpClient
    SERVER_PORT: number
  }
  export default natpmp
}
