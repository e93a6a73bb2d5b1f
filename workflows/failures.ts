/** Turns an activity failure into the short description a run keeps in its state. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The failure's type (non-retryable types name the cause: `InvalidRecipient`, ...) and message. */
export function describeFailure(step: string, err: unknown): { step: string; type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { step, type: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { step, type: cause.name, message: cause.message };
  return { step, type: 'Unknown', message: String(cause) };
}
