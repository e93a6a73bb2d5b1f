/**
 * The send of runs recorded before the omni-channel patch (`patches.omniChannel`): the first channel of the
 * step the consumer can be reached on, on the main task queue, no decision, no fallback. Fenced here so it
 * can be deleted whole when the patch is removed; its shape is proven by the journey-v1-* replay fixtures.
 */
import type { SendStep } from '../../contract/journey-definition';
import { channels as allChannels } from '../../contract/channels';
import { FailureType } from '../../contract/failures';
import { sendProfile, sends } from '../activity-profiles';
import { recordSkip, sendOrRecordFailure } from './messages';
import type { JourneyRun } from './run';

/** Sends the step's message on the first reachable channel, or records the send as skipped. */
export async function legacySend(run: JourneyRun, step: SendStep): Promise<void> {
  const { definition, data, consumerId } = run;
  const order = step.channels === 'auto' ? allChannels : step.channels;
  const channel = order.find((c) => data.consumer.channels.includes(c));
  const key = run.messageKeyBase(step);
  const identity = { key, step: step.id, consumerId, journeyId: definition.id };
  const template = channel ? step.templates[channel] : undefined;
  if (!channel || !template) {
    const reason = channel ? FailureType.UnknownTemplate : FailureType.NoContactPoint;
    const fallback = order[0] ?? 'email';
    await recordSkip(run, identity, fallback, reason, step.id);
    return;
  }
  const message = await sendOrRecordFailure(run, identity, channel, () =>
    sends.sendMessage.executeWithOptions({ ...sendProfile, summary: `send ${channel}: ${definition.id}/${step.id}` }, [
      { ...identity, channel, template, context: data },
    ]),
  );
  run.state.messages.push(message);
  run.leave(message.status === 'failed' ? `failed: ${message.errorType}` : `${channel} ${message.status}`);
}
