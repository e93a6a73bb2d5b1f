/**
 * What the learned channel policy knows: per (topic, reward, persona value, channel) the successes and failures of
 * learned sends, the Beta(1 + successes, 1 + failures) posterior of the channel's reward rate. Each learned send opens a trial
 * (`channel_trials`, keyed by its message key) that is resolved exactly once: every update is one statement that sets
 * the trial's outcome only while it is unset and adds what it resolved to `channel_posteriors`, so a delivery report,
 * a conversion or a sweep applied twice counts once.
 */
import type { Db } from '../runtime/db';
import type { Channel } from '../contract/channels';
import { betaMean, credibleInterval } from '../contract/beta';

/** What rewards a learned send: the provider's delivery report, or the run's goal within the window. */
export type ChannelReward = 'delivery' | 'conversion';

/** A learned send, recorded when the channel decision reserves it. */
export interface ChannelTrial {
  /** The message key of the send. */
  key: string;
  topic: string;
  /** The persona attribute's value; '' for none. */
  persona: string;
  channel: Channel;
  reward: ChannelReward;
  workflowId: string;
  runId: string;
  /** When the reward window ends: an open trial is a failure after it. */
  windowEndsAt: Date;
}

/** The counts of one arm. */
export interface ArmCounts {
  successes: number;
  failures: number;
}

/** The counts of one (reward, persona, channel) of a topic, with the trials still open. */
export interface ArmRecord extends ArmCounts {
  reward: ChannelReward;
  persona: string;
  channel: Channel;
  /** Learned sends whose reward is not known yet. */
  pending: number;
}

/**
 * Opens the trial of a learned send. A retried decision for the same key (which may have drawn another channel)
 * replaces the trial while it is open.
 */
export async function openTrial(db: Db, trial: ChannelTrial): Promise<void> {
  await db('channel_trials')
    .insert({
      key: trial.key,
      topic: trial.topic,
      persona: trial.persona,
      channel: trial.channel,
      reward: trial.reward,
      workflow_id: trial.workflowId,
      run_id: trial.runId,
      window_ends_at: trial.windowEndsAt,
    })
    .onConflict('key')
    .merge(['topic', 'persona', 'channel', 'reward', 'workflow_id', 'run_id', 'window_ends_at', 'decided_at'])
    .whereNull('channel_trials.outcome');
}

/**
 * Resolves the open trials `where` (an SQL condition over `channel_trials`) with `outcome`, and adds them to the
 * posteriors, in one statement. Returns how many trials it resolved (0 when they were resolved already).
 */
async function resolve(
  db: Db,
  where: string,
  bindings: Record<string, unknown>,
  outcome: 'success' | 'failure',
  by: string,
): Promise<number> {
  const { rows } = await db.raw<{ rows: { resolved: number }[] }>(
    `with resolved as (
       update channel_trials set outcome = :outcome, resolved_by = :by, resolved_at = now()
        where outcome is null and (${where})
       returning topic, reward, persona, channel
     ), counted as (
       select topic, reward, persona, channel, count(*)::int as n from resolved group by topic, reward, persona, channel
     ), added as (
       insert into channel_posteriors (topic, reward, persona, channel, successes, failures)
       select topic, reward, persona, channel,
              case when :outcome = 'success' then n else 0 end,
              case when :outcome = 'failure' then n else 0 end
         from counted
       on conflict (topic, reward, persona, channel) do update
          set successes = channel_posteriors.successes + excluded.successes,
              failures = channel_posteriors.failures + excluded.failures,
              updated_at = now()
       returning 1
     )
     select coalesce(sum(n), 0)::int as resolved from counted`,
    { ...bindings, outcome, by },
  );
  return rows[0]?.resolved ?? 0;
}

/** How a trial resolves. */
export type TrialOutcome = 'success' | 'failure';

/**
 * The delivery rule: a final delivery status resolves a trial rewarded by delivery (`delivered` a success; `failed`,
 * `bounced`, `opted-out` a failure); any other status resolves nothing. Also applied by simulations in memory.
 */
export function deliveryOutcome(status: string): TrialOutcome | undefined {
  if (status === 'delivered') return 'success';
  return ['failed', 'bounced', 'opted-out'].includes(status) ? 'failure' : undefined;
}

/**
 * The run-end rule, for each open conversion trial of a run that ended at `at`: a success when the run converted and
 * the trial's window had not ended, else a failure. {@link applyRunEnd} applies it in SQL; simulations in memory.
 */
export function runEndOutcome(windowEndsAt: Date, run: { converted: boolean; at: Date }): TrialOutcome {
  return run.converted && windowEndsAt.getTime() >= run.at.getTime() ? 'success' : 'failure';
}

/** The window rule: an open trial whose window ended before `now` is a failure ({@link expireTrials}). */
export function windowExpired(windowEndsAt: Date, now: Date): boolean {
  return windowEndsAt.getTime() < now.getTime();
}

/**
 * A final delivery status of a message: for a trial rewarded by delivery, `delivered` is a success and `failed`,
 * `bounced` or `opted-out` a failure ({@link deliveryOutcome}). Trials rewarded by conversion wait for the goal.
 * Returns trials resolved (0 or 1).
 */
export function applyDeliveryOutcome(db: Db, key: string, status: string): Promise<number> {
  const outcome = deliveryOutcome(status);
  if (!outcome) return Promise.resolve(0);
  return resolve(db, `key = :key and reward = 'delivery'`, { key }, outcome, status);
}

/**
 * The end of a run: when it converted (its goal arrived at `at`), its open conversion trials whose window had not
 * ended are successes; every other open conversion trial of the run is a failure (a run that ended can no longer
 * see its goal): {@link runEndOutcome}. Returns trials resolved.
 */
export async function applyRunEnd(
  db: Db,
  run: { workflowId: string; runId: string; converted: boolean; at: Date },
): Promise<number> {
  const bindings = { workflowId: run.workflowId, runId: run.runId, at: run.at };
  const ofRun = `workflow_id = :workflowId and run_id = :runId and reward = 'conversion'`;
  const won = run.converted ? await resolve(db, `${ofRun} and window_ends_at >= :at`, bindings, 'success', 'goal') : 0;
  const lost = await resolve(db, ofRun, bindings, 'failure', run.converted ? 'goal after window' : 'run ended');
  return won + lost;
}

/** Open trials of `topic` (every topic when absent) whose window ended before `now` are failures. */
export function expireTrials(db: Db, now: Date, topic?: string): Promise<number> {
  return resolve(
    db,
    topic === undefined ? 'window_ends_at < :now' : 'topic = :topic and window_ends_at < :now',
    { now, topic: topic ?? null },
    'failure',
    'window',
  );
}

/** The counts of `channels` for one topic, reward and persona value (zero for a channel never tried). */
export async function armCounts(
  db: Db,
  arm: { topic: string; reward: ChannelReward; persona: string },
  channels: Channel[],
): Promise<Record<Channel, ArmCounts>> {
  const rows: { channel: Channel; successes: number; failures: number }[] = await db('channel_posteriors')
    .where({ topic: arm.topic, reward: arm.reward, persona: arm.persona })
    .whereIn('channel', channels)
    .select('channel', 'successes', 'failures');
  const counts = {} as Record<Channel, ArmCounts>;
  for (const channel of channels) counts[channel] = { successes: 0, failures: 0 };
  for (const row of rows) counts[row.channel] = { successes: row.successes, failures: row.failures };
  return counts;
}

/** Every arm of `topic` with resolved or open trials, by reward, persona and channel. */
export async function topicArms(db: Db, topic: string): Promise<ArmRecord[]> {
  const { rows } = await db.raw<{ rows: ArmRecord[] }>(
    `select coalesce(p.reward, o.reward) as reward, coalesce(p.persona, o.persona) as persona,
            coalesce(p.channel, o.channel) as channel,
            coalesce(p.successes, 0)::int as successes, coalesce(p.failures, 0)::int as failures,
            coalesce(o.pending, 0)::int as pending
       from (select reward, persona, channel, successes, failures from channel_posteriors where topic = :topic) p
       full join (select reward, persona, channel, count(*) as pending from channel_trials
                   where topic = :topic and outcome is null group by reward, persona, channel) o
         on o.reward = p.reward and o.persona = p.persona and o.channel = p.channel
      order by 1, 2, 3`,
    { topic },
  );
  return rows;
}

/** One arm's estimate: the Beta(1 + successes, 1 + failures) posterior's mean and 95 % credible interval. */
export interface ChannelEstimate {
  reward: ChannelReward;
  persona: string;
  channel: Channel;
  successes: number;
  failures: number;
  /** Resolved learned sends: successes + failures. */
  trials: number;
  /** Learned sends whose reward is not known yet. */
  pending: number;
  mean: number;
  interval: { low: number; high: number };
}

/** One arm's estimate from its counts: the posterior mean and 95 % credible interval, to 4 decimals. */
export function estimateOf(arm: ArmRecord): ChannelEstimate {
  const round = (value: number) => Math.round(value * 1e4) / 1e4;
  const posterior = { alpha: 1 + arm.successes, beta: 1 + arm.failures };
  const [low, high] = credibleInterval(posterior);
  return {
    ...arm,
    trials: arm.successes + arm.failures,
    mean: round(betaMean(posterior)),
    interval: { low: round(low), high: round(high) },
  };
}

/**
 * What the learned policy currently believes about each channel of `topic`, per reward and persona value (sends
 * whose reward window has passed are counted as failures first). A topic without learned sends has no estimates.
 */
export async function channelEstimates(
  db: Db,
  topic: string,
): Promise<{ topic: string; prior: string; estimates: ChannelEstimate[] }> {
  await expireTrials(db, new Date(), topic);
  const estimates = (await topicArms(db, topic)).map(estimateOf);
  return { topic, prior: 'Beta(1, 1)', estimates };
}
