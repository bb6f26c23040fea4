import { IdentityError } from '../src/index.js'

/** The code of the IdentityError `fn` throws (undefined when it returns; anything else rethrown). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof IdentityError) return err.code
    throw err
  }
  return undefined
}
