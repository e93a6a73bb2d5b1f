/**
 * Re-sends one failed message (`POST /v1/messages/{id}/resend`), durably: the channel decision of a journey send
 * (preferences, opt-outs, suppressions, quiet hours waited out, frequency caps) restricted to the message's channel,
 * then the same send activity on that channel's task queue, under a new key. Its workflow id comes from the failed
 * message's key, so a second request re-sends nothing more.
 */
import { isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import type { JourneySendRequest } from '../activities';
import type { Channel } from '../contract/channels';
import { describeFailure } from '../contract/failures';
import { channelSends, decisions, records } from './activity-profiles';
import { skipReason } from './journey/steps/send';

/** What the resend starts from: the send request of the failed message, as its run made it, with the new key. */
export interface ResendInput {
  /** The failed message's key. */
  originalKey: string;
  /** The original request under the new key (`<original key>/resend`). */
  request: JourneySendRequest & { journeyVersion: number; topic: string };
}

/** How the resend ended. */
export interface ResendResult {
  originalKey: string;
  key: string;
  channel: Channel;
  status: 'sent' | 'outbox' | 'failed' | 'skipped';
  /** Why it failed or was skipped (a failure type such as `Suppressed`, `ChannelOptedOut`, `InvalidRecipient`). */
  reason?: string;
  provider?: string;
  providerId?: string;
}

/** How many times a quiet-hours or frequency-cap deferral is waited out before the resend gives up. */
const MAX_DEFERRALS = 5;

/** The message key of the resend of `originalKey`. */
export const resendKey = (originalKey: string) => `${originalKey}/resend`;

/** Re-sends a failed message on its channel, the journey's policy applied. */
export async function resendMessageWorkflow({ originalKey, request }: ResendInput): Promise<ResendResult> {
  const { key, channel, consumerId, journeyId, step } = request;
  const identity = { key, consumerId, journeyId, step };
  const ended = (status: ResendResult['status'], extra: Partial<ResendResult> = {}): ResendResult => ({
    originalKey,
    key,
    channel,
    status,
    ...extra,
  });
  for (let deferrals = 0; ; deferrals++) {
    const decision = await decisions.decideChannel.executeWithOptions({ summary: `resend ${channel}: policy` }, [
      {
        key,
        workflowId: request.workflowId ?? workflowInfo().workflowId,
        runId: request.runId ?? workflowInfo().firstExecutionRunId,
        consumerId,
        journeyId,
        journeyVersion: request.journeyVersion,
        topic: request.topic,
        step,
        attempt: request.attempt ?? 1,
        channels: [channel],
        templates: [channel],
        exclude: [],
        quietHours: 'respect',
        onFrequencyCap: 'skip',
        now: new Date().toISOString(),
      },
    ]);
    if (decision.deferredUntil && deferrals < MAX_DEFERRALS) {
      await sleep(Math.max(Date.parse(decision.deferredUntil) - Date.now(), 1_000));
      continue;
    }
    if (decision.channel !== channel) {
      const reason = decision.deferredUntil
        ? `deferred ${MAX_DEFERRALS} times (${decision.deferredFor})`
        : skipReason(decision.dropped.map((dropped) => dropped.reason));
      await records.recordMessageOutcome.executeWithOptions({ summary: `resend ${channel}: record skipped` }, [
        {
          ...identity,
          channel,
          workflowId: request.workflowId,
          runId: request.runId,
          journeyVersion: request.journeyVersion,
          topic: request.topic,
          status: 'skipped',
          errorType: reason,
        },
      ]);
      return ended('skipped', { reason });
    }
    try {
      const result = await channelSends(channel).sendMessage.executeWithOptions(
        { summary: `resend ${channel}: ${journeyId}/${step}` },
        [{ ...request, locale: decision.locale ?? request.locale }],
      );
      return ended(result.status, { provider: result.provider, providerId: result.providerId });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = describeFailure(step, err);
      await records.recordMessageOutcome.executeWithOptions({ summary: `resend ${channel}: record failure` }, [
        { ...identity, channel, status: 'failed', errorType: failure.type, errorMessage: failure.message },
      ]);
      return ended('failed', { reason: failure.type });
    }
  }
}
