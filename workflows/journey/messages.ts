/** How a send step's messages enter the run: a sent or failed message, or a skipped send. */
import { isCancellation, log, workflowInfo } from '@temporalio/workflow';
import type { SendResult } from '../../activities';
import type { Channel, MessageSummary } from '../../contract/channels';
import { describeFailure } from '../../contract/failures';
import type { JourneyRun } from './run';

/** Who a message belongs to, as the message records need it. */
export interface MessageIdentity {
  key: string;
  step: string;
  consumerId: string;
  journeyId: string;
}

/** Runs a send activity; a failure (retries exhausted, permanent) is recorded and becomes a failed message. */
export async function sendOrRecordFailure(
  run: JourneyRun,
  identity: MessageIdentity,
  channel: Channel,
  execute: () => Promise<SendResult>,
): Promise<MessageSummary> {
  const { key, step } = identity;
  try {
    const result = await execute();
    return {
      key,
      step,
      channel,
      status: result.status,
      provider: result.provider,
      providerId: result.providerId,
      at: result.at,
    };
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    const failure = describeFailure(step, err);
    await run.records.recordMessageOutcome.executeWithOptions({ summary: `record ${channel} failure` }, [
      { ...identity, channel, status: 'failed', errorType: failure.type, errorMessage: failure.message },
    ]);
    return { key, step, channel, status: 'failed', errorType: failure.type, at: new Date().toISOString() };
  }
}

/** Records a send that did not go out (no channel, no template) as a skipped message, and ends the step. */
export async function recordSkip(
  run: JourneyRun,
  identity: MessageIdentity,
  channel: Channel,
  reason: string,
  label: string,
): Promise<void> {
  // With the run's workflow id and journey version, so that analytics by version count the skipped send.
  const { workflowId, firstExecutionRunId } = workflowInfo();
  await run.records.recordMessageOutcome.executeWithOptions({ summary: `${label}: record skipped send` }, [
    {
      ...identity,
      workflowId,
      runId: firstExecutionRunId,
      journeyVersion: run.version,
      topic: run.definition.topic,
      channel,
      status: 'skipped',
      errorType: reason,
    },
  ]);
  log.info('send skipped', { step: identity.step, channel, reason });
  run.state.messages.push({
    key: identity.key,
    step: identity.step,
    channel,
    status: 'skipped',
    errorType: reason,
    at: new Date().toISOString(),
  });
  run.leave(`skipped: ${reason}`);
}
