/**
 * What reverse connect needs from a message carrier: send a short text message to a node id, and
 * receive the ones addressed to us. `RelayClient` implements it over the relay; a DHT can later.
 */

export interface TransportMessage {
  /** The sender's node id, as authenticated by the carrier. */
  from: string
  /** The sender's message id (unique per sender). */
  id: string
  /** The message text. */
  message: string
  /** The sender's IP address as the carrier saw it, when it knows it. */
  fromAddress?: string
}

export interface MessageTransport {
  /** Our own node id (40 hex characters). */
  readonly nodeId: string
  /** Resolves when the carrier has accepted the message; rejects with a typed error otherwise. */
  send(to: string, message: string, options?: { signal?: AbortSignal }): Promise<void>
  /** Calls `handler` for each message addressed to us; returns the function that unsubscribes. */
  subscribe(handler: (message: TransportMessage) => void): () => void
  close(): Promise<void>
}
