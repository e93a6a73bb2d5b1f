/**
 * Every activity proxy the workflows use, with its timeouts and retry policy, in one screen.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type Channel, channelTaskQueue } from '../contract/channels';
import { FailureType, permanentFailureTypes } from '../contract/failures';

const permanentFailures = [...permanentFailureTypes];

/** Reads from our own PostgreSQL: fast, retried briefly then for a long time (a DB outage heals). */
export const lookupProfile: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: permanentFailures,
  },
};

/**
 * Calls an external provider. Bounded so that a long provider outage ends in a recorded failure instead
 * of a send that goes out days late; permanent failures (invalid recipient) are not retried at all.
 */
export const sendProfile: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: permanentFailures,
  },
};

/** Writes results to our own PostgreSQL: idempotent upserts, so retried until the database is back. */
export const recordProfile: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * Calls a business webhook: a few quick retries for 5xx and timeouts; a 4xx answer is final.
 * The step's own timeout overrides startToCloseTimeout.
 */
export const webhookProfile: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [
      FailureType.WebhookRejected,
      FailureType.WebhookTargetForbidden,
      FailureType.WebhookResponseTooLarge,
      FailureType.TemplateError,
    ],
  },
};

export const profiles = proxyActivities<Activities>(lookupProfile);
/** Channel decisions read our own PostgreSQL like lookups. */
export const decisions = proxyActivities<Activities>(lookupProfile);
export const webhooks = proxyActivities<Activities>(webhookProfile);
export const sends = proxyActivities<Activities>(sendProfile);
export const records = proxyActivities<Activities>(recordProfile);

/** Sends on one channel's own task queue, where that channel's rate limit applies. */
export function channelSends(channel: Channel) {
  return proxyActivities<Activities>({
    ...sendProfile,
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
  });
}

/** Pure computations whose answers must be recorded in history (time-zone rules change with tzdata). */
export const computations = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

/** Notes in the history (branch and split choices, pauses): a local activity that does nothing, seen by its summary. */
export const notes = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});
