/** Closing the Temporal client's connection when a process stops. */
import type { Connection } from '@temporalio/client';

/** The longest the Temporal client waits before it retries a call (its default backoff: 5 s, plus 20 % jitter). */
export const SDK_RETRY_BACKOFF_MAX_MS = 6_000;

/**
 * Closes `connection` once no retry timer of the SDK can be left on it, without making the caller wait. The SDK may
 * still hold a retry timer for a call already answered (a deadline passed while Temporal was unreachable): it retries
 * with backoff past the call's deadline, and that timer throws 'Channel has been shut down' from the event loop if the
 * channel closed under it, ending a stopping process with an uncaught error. The timer of the close does not keep the
 * process alive: a process that ends first closes the channel with it.
 */
export function closeConnectionLater(connection: Connection): void {
  setTimeout(() => void connection.close().catch(() => undefined), SDK_RETRY_BACKOFF_MAX_MS).unref();
}
