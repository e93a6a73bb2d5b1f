/**
 * Every activity proxy the workflows use, with its timeouts and retry policy, in one screen.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
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

/**
 * Retries of a local activity due sooner than this run inside the workflow task (which the worker keeps alive with
 * new tasks while they last); later ones wait on a durable timer, so a long database outage adds a timer and a task
 * per retry to the history instead of a workflow task every few seconds.
 */
const LOCAL_RETRY_THRESHOLD = '10 seconds';

/**
 * Lean runs (patch `lean-history-v1`): the reads of our own PostgreSQL (consumer lookup) and the channel decision
 * as local activities, run by the workflow worker inside the workflow task: one marker in the history instead of
 * a scheduled, started and completed activity and another workflow task. A short attempt; retried with backoff
 * for up to an hour like {@link lookupProfile}; permanent failures are not retried.
 */
export const localLookupProfile: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  retry: lookupProfile.retry,
};

/**
 * Lean runs: records of progress and message outcomes, and profile updates, as local activities. Idempotent
 * writes, so retried with backoff until the database is back, like {@link recordProfile}.
 */
export const localRecordProfile: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  retry: recordProfile.retry,
};

/** Lookups and channel decisions of lean runs. */
export const localLookups = proxyLocalActivities<Activities>(localLookupProfile);
/** Records of lean runs. */
export const localRecords = proxyLocalActivities<Activities>(localRecordProfile);

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
