/**
 * The `redis` option: a `redis://[user:password@]host[:port][/db]` (or `rediss://`) URL, checked before
 * anything connects, and shown in logs and errors without its password.
 */
import { BootstrapServerError } from '../errors.js'

/** `url` with its password replaced by `***` (also for strings that are not valid URLs). */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@').replace(/[\r\n]/g, ' ')
}

/** Returns the URL if it is one ioredis can use; throws `ERR_INVALID_REDIS_URL` (password redacted). */
export function parseRedisUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw BootstrapServerError.INVALID_REDIS_URL(JSON.stringify(raw ?? null), 'expected redis://host:port')
  }
  const safe = redactRedisUrl(raw)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw BootstrapServerError.INVALID_REDIS_URL(safe, 'not a URL (expected redis://host:port)')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw BootstrapServerError.INVALID_REDIS_URL(safe, `scheme ${url.protocol} (expected redis: or rediss:)`)
  }
  if (url.hostname === '') throw BootstrapServerError.INVALID_REDIS_URL(safe, 'no host')
  if (!/^(\/([0-9]{1,2})?)?$/.test(url.pathname)) {
    throw BootstrapServerError.INVALID_REDIS_URL(safe, 'the path must be a database number (/0../15)')
  }
  if (url.search !== '' || url.hash !== '') {
    throw BootstrapServerError.INVALID_REDIS_URL(safe, 'no query or fragment expected')
  }
  return raw
}
