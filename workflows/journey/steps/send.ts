/**
 * Send steps: decide the channel (preferences, suppressions, send time, quiet hours, caps) through an activity, wait
 * for the send time, out quiet hours or a full cap when the decision says so, send on the channel's own task queue, and with a
 * fallback wait for the delivery report, moving to the next eligible channel on failure or timeout.
 */
import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { type Channel, channels as allChannels, type DropReason } from '../../../contract/channels';
import { FailureType } from '../../../contract/failures';
import type { SendStep } from '../../../contract/journey-definition';
import { channelSends } from '../../activity-profiles';
import { legacySend } from '../legacy-send';
import { recordSkip, sendOrRecordFailure } from '../messages';
import { patches } from '../patches';
import { type JourneyRun, runLocalKey } from '../run';

/** Channel decisions kept in the run state (the oldest are dropped first). */
const DECISIONS_KEPT = 50;

/** The failure type a skipped send is recorded with, from why its channels were dropped. */
export function skipReason(reasons: DropReason[]): FailureType {
  const relevant = new Set(reasons.filter((r) => r !== 'no-template' && r !== 'already-tried'));
  if (relevant.has('frequency-cap')) return FailureType.FrequencyCapped;
  if (relevant.size === 1 && relevant.has('no-contact-point')) return FailureType.NoContactPoint;
  const optOuts: DropReason[] = ['channel-opted-out', 'topic-opted-out', 'suppressed', 'no-contact-point'];
  if (relevant.size > 0 && [...relevant].every((r) => optOuts.includes(r))) return FailureType.OptedOut;
  return FailureType.NoEligibleChannel;
}

/** The `send` step: holds while paused, then sends (runs from before the omni-channel patch: legacy send). */
export async function runSend(run: JourneyRun, step: SendStep): Promise<string | undefined> {
  await run.holdWhilePaused(step);
  if (run.ended) return undefined;
  if (run.heldOut) await withhold(run, step);
  else if (patched(patches.omniChannel.id)) await sendOnDecidedChannel(run, step);
  else await legacySend(run, step);
  return step.next;
}

/**
 * A held-out run's send (patch holdout-v1): recorded as skipped with reason `HeldOut`, on the first channel the step
 * could use, without a channel decision (which would reserve a frequency cap) or a send activity.
 */
async function withhold(run: JourneyRun, step: SendStep): Promise<void> {
  const order = step.channels === 'auto' ? (run.definition.channels?.default ?? allChannels) : step.channels;
  const channel =
    order.find((c) => step.templates[c] !== undefined) ??
    allChannels.find((c) => step.templates[c] !== undefined) ??
    'email';
  const identity = {
    key: `${run.messageKeyBase(step)}/1`,
    step: step.id,
    consumerId: run.consumerId,
    journeyId: run.definition.id,
  };
  await recordSkip(run, identity, channel, FailureType.HeldOut, step.name ?? step.id);
}

async function sendOnDecidedChannel(run: JourneyRun, step: SendStep): Promise<void> {
  const { definition, version, consumerId, data, state } = run;
  const label = step.name ?? step.id;
  const base = run.messageKeyBase(step);
  const templates = allChannels.filter((channel) => step.templates[channel] !== undefined);
  const tried: Channel[] = [];
  const outcomes: string[] = [];
  // A send-time hold is bounded from the step's first decision, across its deferrals and fallbacks.
  const since = new Date().toISOString();
  for (let attempt = 1; !run.ended; attempt++) {
    const key = `${base}/${attempt}`;
    const identity = { key, step: step.id, consumerId, journeyId: definition.id };
    let decision;
    for (;;) {
      decision = await run.lookups.decideChannel.executeWithOptions(
        { summary: `${label}: choose channel (attempt ${attempt})` },
        [
          {
            key,
            workflowId: workflowInfo().workflowId,
            runId: workflowInfo().firstExecutionRunId,
            consumerId,
            journeyId: definition.id,
            journeyVersion: version,
            topic: definition.topic,
            step: step.id,
            attempt,
            channels: step.channels,
            journeyChannels: definition.channels,
            templates,
            exclude: tried,
            quietHours: step.quietHours ?? 'respect',
            onFrequencyCap: step.onFrequencyCap ?? 'skip',
            now: new Date().toISOString(),
            // Only learned steps add this field: other decisions' inputs stay as they were.
            ...(step.policy === 'learned'
              ? {
                  learned: {
                    persona: step.persona,
                    reward: step.reward,
                    rewardWindow: step.rewardWindow,
                    costWeight: step.costWeight,
                  },
                }
              : {}),
            // Likewise only steps with a send time.
            ...(step.sendTime ? { sendTime: { ...step.sendTime, since } } : {}),
          },
        ],
      );
      const { locale: _locale, ...recorded } = decision;
      state.decisions = [
        ...(state.decisions ?? []),
        { step: step.id, attempt, at: new Date().toISOString(), ...recorded },
      ].slice(-DECISIONS_KEPT);
      if (!decision.deferredUntil) break;
      const waitMs = Date.parse(decision.deferredUntil) - Date.now();
      await run.waitFor(
        step,
        Math.max(waitMs, 1000),
        `${label}: ${decision.deferredFor} until ${decision.deferredUntil}`,
      );
      if (run.ended) return;
      await run.holdWhilePaused(step);
      if (run.ended) return;
    }
    const channel = decision.channel;
    if (!channel) {
      if (attempt === 1) {
        const reason = skipReason(decision.dropped.map((d) => d.reason));
        const recordAs = decision.order[0] ?? 'email';
        await recordSkip(run, identity, recordAs, reason, label);
      } else {
        run.leave(`${outcomes.join(', ')}; no channel left`);
      }
      return;
    }
    tried.push(channel);
    const template = step.templates[channel];
    if (!template) {
      // The decision only chooses channels the step has a template for.
      throw ApplicationFailure.nonRetryable(
        `The channel decision chose ${channel}, which step ${step.id} has no template for`,
        FailureType.TemplateMissing,
      );
    }
    const message = await sendOrRecordFailure(run, identity, channel, () =>
      channelSends(channel).sendMessage.executeWithOptions(
        { summary: `send ${channel}: ${definition.id}/${step.id} (attempt ${attempt})` },
        [
          {
            ...identity,
            channel,
            template,
            context: data,
            workflowId: workflowInfo().workflowId,
            runId: workflowInfo().firstExecutionRunId,
            journeyVersion: version,
            topic: definition.topic,
            attempt,
            locale: decision.locale,
          },
        ],
      ),
    );
    // A delivery report may have arrived while the send activity was completing.
    const early = run.deliveries.get(runLocalKey(key));
    if (early) {
      message.status = early.status;
      message.detail = early.detail;
    }
    state.messages.push(message);
    if (message.status === 'failed') {
      outcomes.push(`${channel} failed: ${message.errorType ?? message.detail ?? 'unknown'}`);
      if (step.fallback) continue;
      run.leave(`failed: ${message.errorType}`);
      return;
    }
    if (!step.fallback) {
      run.leave(`${channel} ${message.status}`);
      return;
    }
    const within = step.fallback.deliveredWithin;
    await run.waitFor(step, within, `${label}: wait up to ${within} for ${channel} delivery`, () =>
      run.deliveries.has(runLocalKey(key)),
    );
    const report = run.deliveries.get(runLocalKey(key));
    if (report?.status === 'delivered') {
      run.leave(outcomes.length ? `${outcomes.join(', ')}; ${channel} delivered` : `${channel} delivered`);
      return;
    }
    outcomes.push(
      `${channel} ${report ? `${report.status}${report.detail ? ` (${report.detail})` : ''}` : `not delivered within ${within}`}`,
    );
  }
}
