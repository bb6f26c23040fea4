/** A message the relay holds for its recipient (the store's and the fair shares' unit). */
export interface StoredMessage {
  to: string
  from: string
  /** Chosen by the sender; unique per sender. */
  id: string
  /** base64url, as received. */
  payload: string
  /** The sender's address as the relay saw it. */
  fromAddress: string
  expiresAt: number
}
