/**
 * Journey analytics, aggregated in PostgreSQL from the run records (`journey_runs`, `journey_step_visits`)
 * and the message log (`messages`): one query per section, read from one snapshot.
 */
import type { Knex } from 'knex';
import type { Db } from '../runtime/db';
import { channels as channelOrder } from '../contract/channels';
import { compareConversion, type GroupConversion, groupConversion, type Lift } from '../contract/lift';

/** Days covered when the caller gives no `from`. */
export const DEFAULT_ANALYTICS_DAYS = 30;

/** Longest range one analytics query may cover, in days. */
export const MAX_ANALYTICS_DAYS = 366;

const DAY_MS = 24 * 60 * 60 * 1000;

/** A half-open time range: `from` included, `to` excluded. */
export interface AnalyticsRange {
  from: Date;
  to: Date;
}

/** Fills in the defaults: `to` = now, `from` = {@link DEFAULT_ANALYTICS_DAYS} days before `to`. */
export function analyticsRange(range: { from?: Date; to?: Date }, now: Date = new Date()): AnalyticsRange {
  const to = range.to ?? now;
  return { from: range.from ?? new Date(to.getTime() - DEFAULT_ANALYTICS_DAYS * DAY_MS), to };
}

/** Earliest start of a range: 0001-01-01 UTC (PostgreSQL has no year 0). */
export const EARLIEST_ANALYTICS_INSTANT = new Date('0001-01-01T00:00:00Z');

/** Latest end of a range (excluded): the end of 9999-12-31 UTC, the last day an ISO date can name. */
export const LATEST_ANALYTICS_INSTANT = new Date(Date.UTC(10_000, 0, 1));

/** The message of a range outside {@link EARLIEST_ANALYTICS_INSTANT} .. {@link LATEST_ANALYTICS_INSTANT}. */
export const OUT_OF_ANALYTICS_BOUNDS = 'must lie between 0001-01-01 and 9999-12-31 (UTC)';

/**
 * What is wrong with a range (empty, reversed, outside the years 1 to 9999, or longer than
 * {@link MAX_ANALYTICS_DAYS}), if anything.
 */
export function rangeProblem({ from, to }: AnalyticsRange): string | undefined {
  if (from.getTime() >= to.getTime()) return 'must be before to';
  if (from.getTime() < EARLIEST_ANALYTICS_INSTANT.getTime() || to.getTime() > LATEST_ANALYTICS_INSTANT.getTime())
    return OUT_OF_ANALYTICS_BOUNDS;
  if (to.getTime() - from.getTime() > MAX_ANALYTICS_DAYS * DAY_MS)
    return `the range may span at most ${MAX_ANALYTICS_DAYS} days`;
  return undefined;
}

/** One step of the journey: how many runs entered it, and how often (a loop enters a step again). */
export interface StepAnalytics {
  stepId: string;
  /** Distinct runs that entered the step at least once. */
  runs: number;
  /** Times the step was entered, loops included. */
  visits: number;
}

/** The messages of one channel. */
export interface ChannelAnalytics {
  channel: string;
  /** Message rows (one per send attempt on the channel), whatever their status. */
  messages: number;
  /** Accepted by a provider (the development outbox included): rows with a provider id. */
  sent: number;
  /** Reported delivered by the provider (status `delivered`). */
  delivered: number;
  /** Status `failed`, `bounced` or `opted-out`: refused before sending or reported undelivered after. */
  failed: number;
  /** Status `skipped`: not sent on purpose. */
  skipped: number;
  /** Sum of the messages' recorded costs, in the answer's currency. */
  cost: number;
  /** delivered / sent; null when nothing was sent. */
  deliveryRate: number | null;
}

/** One UTC day of the range. */
export interface DailyAnalytics {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** Runs that entered the journey that day. */
  entered: number;
  /** Runs that ended converted that day, whenever they entered. */
  converted: number;
  /** Messages created that day that a provider accepted, were delivered, failed; and their cost. */
  sent: number;
  delivered: number;
  failed: number;
  cost: number;
}

/** Treated and held-out entrants of one slice (all, a version, an entry day), and the lift of the treated. */
export interface HoldoutComparison {
  /** Entrants not held out (they got the journey's messages) and how many converted, as they are now. */
  treated: GroupConversion;
  /** Entrants held out (sent nothing) and how many converted, as they are now. */
  heldOut: GroupConversion;
  /** The treated's conversion against the held-out's. */
  lift: Lift;
}

/** The holdout comparison of the entrants in the range: overall, per version and per entry day. */
export interface HoldoutAnalytics {
  /** Every entrant of the answer's versions together. */
  overall: HoldoutComparison;
  /** Per version with entrants in the range, in order. */
  versions: (HoldoutComparison & { version: number })[];
  /** Per UTC day of the range, entrants by the day they entered (a cohort), days without entrants included. */
  daily: (HoldoutComparison & { date: string })[];
}

/** One path of a random split: the treated runs whose first visit of the split took it. */
export interface SplitPathAnalytics extends GroupConversion {
  /** 1 for the first path of the step. */
  path: number;
  /** This path's conversion against the first path's; null for the first path. */
  lift: Lift | null;
}

/** One random-split step: conversion per path, each path against the first. */
export interface SplitAnalytics {
  stepId: string;
  paths: SplitPathAnalytics[];
}

/** The answer of {@link journeyAnalytics}. */
export interface JourneyAnalytics {
  journeyId: string;
  /** The version the figures are limited to; null for all versions. */
  version: number | null;
  /** ISO-8601 start of the range (included). */
  from: string;
  /** ISO-8601 end of the range (excluded). */
  to: string;
  currency: string;
  /** Runs that entered the journey in the range; the run figures below are about these runs, as they are now. */
  entered: number;
  active: number;
  converted: number;
  completed: number;
  failed: number;
  /** converted / entered; null when no run entered. */
  conversionRate: number | null;
  /** Steps the entered runs went through, in the order they were first entered. */
  steps: StepAnalytics[];
  /** Messages created in the range, per channel. */
  channels: ChannelAnalytics[];
  /** Every UTC day the range touches, days without activity included (figures limited to the range). */
  daily: DailyAnalytics[];
  /** Conversion of treated and held-out entrants (journeys with a holdout), lift and its 95 % interval. */
  holdout: HoldoutAnalytics;
  /** Per random-split step, conversion per path of the treated entrants (held-out ones left out), lift vs path 1. */
  splits: SplitAnalytics[];
}

/** What to aggregate. */
export interface AnalyticsQuery {
  journeyId: string;
  /** Limit to one published version. @default all versions */
  version?: number;
  /** @default {@link DEFAULT_ANALYTICS_DAYS} days before `to` */
  from?: Date;
  /** Excluded. @default now */
  to?: Date;
  /** Currency of the recorded costs (the configured `COST_CURRENCY`). */
  currency: string;
}

type Bindings = { journeyId: string; version: number | null; from: Date; to: Date };

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * Aggregates a journey's runs, steps and messages over a range. Throws a `RangeError` for a range that is
 * empty or longer than {@link MAX_ANALYTICS_DAYS} days (the API checks it first and answers 400).
 */
export async function journeyAnalytics(db: Db, query: AnalyticsQuery): Promise<JourneyAnalytics> {
  const range = analyticsRange(query);
  const problem = rangeProblem(range);
  if (problem) throw new RangeError(`Invalid analytics range ${range.from.toISOString()}..: ${problem}`);
  const bindings: Bindings = { journeyId: query.journeyId, version: query.version ?? null, ...range };
  // Named bindings only: the optional filter is a fixed fragment, never caller text.
  const runVersion = query.version === undefined ? '' : 'and journey_version = :version';
  const joinedVersion = query.version === undefined ? '' : 'and r.journey_version = :version';
  const { runs, steps, channels, daily, holdout, splits } = await db.transaction(
    async (tx) => ({
      runs: await runFigures(tx, bindings, runVersion),
      steps: await stepFigures(tx, bindings, joinedVersion),
      channels: await channelFigures(tx, bindings, runVersion),
      daily: await dailyFigures(tx, bindings, runVersion),
      holdout: await holdoutFigures(tx, bindings, runVersion),
      splits: await splitFigures(tx, bindings, joinedVersion),
    }),
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  return {
    journeyId: query.journeyId,
    version: query.version ?? null,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    currency: query.currency,
    ...runs,
    conversionRate: ratio(runs.converted, runs.entered),
    steps,
    channels,
    daily,
    holdout,
    splits,
  };
}

async function rows<T>(db: Db, sql: string, bindings: Knex.ValueDict): Promise<T[]> {
  return (await db.raw<{ rows: T[] }>(sql, bindings)).rows;
}

async function runFigures(db: Db, bindings: Bindings, versionFilter: string) {
  const [row] = await rows<{ entered: number; active: number; converted: number; completed: number; failed: number }>(
    db,
    `select count(*)::int as entered,
            (count(*) filter (where status = 'running'))::int as active,
            (count(*) filter (where status = 'converted'))::int as converted,
            (count(*) filter (where status = 'completed'))::int as completed,
            (count(*) filter (where status = 'failed'))::int as failed
       from journey_runs
      where journey_id = :journeyId and entered_at >= :from and entered_at < :to ${versionFilter}`,
    bindings,
  );
  return row ?? { entered: 0, active: 0, converted: 0, completed: 0, failed: 0 };
}

async function stepFigures(db: Db, bindings: Bindings, versionFilter: string): Promise<StepAnalytics[]> {
  return rows<StepAnalytics>(
    db,
    `select v.step_id as "stepId",
            count(distinct (v.workflow_id, v.run_id))::int as runs,
            count(*)::int as visits
       from journey_step_visits v
       join journey_runs r on r.workflow_id = v.workflow_id and r.run_id = v.run_id
      where r.journey_id = :journeyId and r.entered_at >= :from and r.entered_at < :to ${versionFilter}
      group by v.step_id
      order by min(v.entered_at), v.step_id`,
    bindings,
  );
}

async function channelFigures(db: Db, bindings: Bindings, versionFilter: string): Promise<ChannelAnalytics[]> {
  const result = await rows<Omit<ChannelAnalytics, 'cost' | 'deliveryRate'> & { cost: string }>(
    db,
    `select channel,
            count(*)::int as messages,
            (count(*) filter (where provider_id is not null))::int as sent,
            (count(*) filter (where status = 'delivered'))::int as delivered,
            (count(*) filter (where status in ('failed', 'bounced', 'opted-out')))::int as failed,
            (count(*) filter (where status = 'skipped'))::int as skipped,
            coalesce(sum(cost), 0)::text as cost
       from messages
      where journey_id = :journeyId and created_at >= :from and created_at < :to ${versionFilter}
      group by channel
      order by array_position(array[${channelOrder.map((c) => `'${c}'`).join(', ')}]::text[], channel) nulls last,
               channel`,
    bindings,
  );
  return result.map((row) => ({ ...row, cost: Number(row.cost), deliveryRate: ratio(row.delivered, row.sent) }));
}

async function dailyFigures(db: Db, bindings: Bindings, versionFilter: string): Promise<DailyAnalytics[]> {
  // The last day is the one holding the last instant before `to`.
  const days = { first: utcDay(bindings.from), last: utcDay(new Date(bindings.to.getTime() - 1)) };
  const result = await rows<Omit<DailyAnalytics, 'cost'> & { cost: string }>(
    db,
    `with days as (
       select cast(d as date) as day
         from generate_series(cast(:firstDay as date), cast(:lastDay as date), interval '1 day') as d
     ), entered as (
       select cast(timezone('UTC', entered_at) as date) as day, count(*) as n
         from journey_runs
        where journey_id = :journeyId and entered_at >= :from and entered_at < :to ${versionFilter}
        group by 1
     ), converted as (
       select cast(timezone('UTC', ended_at) as date) as day, count(*) as n
         from journey_runs
        where journey_id = :journeyId and status = 'converted' and ended_at >= :from and ended_at < :to
              ${versionFilter}
        group by 1
     ), sent as (
       select cast(timezone('UTC', created_at) as date) as day,
              count(*) filter (where provider_id is not null) as sent,
              count(*) filter (where status = 'delivered') as delivered,
              count(*) filter (where status in ('failed', 'bounced', 'opted-out')) as failed,
              sum(cost) as cost
         from messages
        where journey_id = :journeyId and created_at >= :from and created_at < :to ${versionFilter}
        group by 1
     )
     select to_char(days.day, 'YYYY-MM-DD') as date,
            coalesce(entered.n, 0)::int as entered,
            coalesce(converted.n, 0)::int as converted,
            coalesce(sent.sent, 0)::int as sent,
            coalesce(sent.delivered, 0)::int as delivered,
            coalesce(sent.failed, 0)::int as failed,
            coalesce(sent.cost, 0)::text as cost
       from days
       left join entered using (day)
       left join converted using (day)
       left join sent using (day)
      order by days.day`,
    { ...bindings, firstDay: days.first, lastDay: days.last },
  );
  return result.map((row) => ({ ...row, cost: Number(row.cost) }));
}

/** Counts of one group, summed over slices. */
type Counts = { entered: number; converted: number };
type HoldoutCounts = { treated: Counts; heldOut: Counts };

const emptyCounts = (): HoldoutCounts => ({
  treated: { entered: 0, converted: 0 },
  heldOut: { entered: 0, converted: 0 },
});

function compareGroups({ treated, heldOut }: HoldoutCounts): HoldoutComparison {
  const t = groupConversion(treated.entered, treated.converted);
  const h = groupConversion(heldOut.entered, heldOut.converted);
  return { treated: t, heldOut: h, lift: compareConversion(t, h, { group: 'treated', baseline: 'held out' }) };
}

/** The days of a range, `YYYY-MM-DD` UTC: the last is the one holding the last instant before `to`. */
function rangeDays({ from, to }: Bindings): string[] {
  const days: string[] = [];
  const last = utcDay(new Date(to.getTime() - 1));
  for (let at = Date.parse(utcDay(from)); ; at += DAY_MS) {
    const day = utcDay(new Date(at));
    days.push(day);
    if (day >= last) return days;
  }
}

async function holdoutFigures(db: Db, bindings: Bindings, versionFilter: string): Promise<HoldoutAnalytics> {
  const result = await rows<{ version: number; date: string; heldOut: boolean; entered: number; converted: number }>(
    db,
    `select journey_version as version,
            to_char(cast(timezone('UTC', entered_at) as date), 'YYYY-MM-DD') as date,
            held_out as "heldOut",
            count(*)::int as entered,
            (count(*) filter (where status = 'converted'))::int as converted
       from journey_runs
      where journey_id = :journeyId and entered_at >= :from and entered_at < :to ${versionFilter}
      group by 1, 2, 3`,
    bindings,
  );
  const overall = emptyCounts();
  const versions = new Map<number, HoldoutCounts>();
  const days = new Map(rangeDays(bindings).map((day) => [day, emptyCounts()]));
  for (const row of result) {
    const group = row.heldOut ? 'heldOut' : 'treated';
    if (!versions.has(row.version)) versions.set(row.version, emptyCounts());
    for (const counts of [overall, versions.get(row.version), days.get(row.date)]) {
      if (!counts) continue;
      counts[group].entered += row.entered;
      counts[group].converted += row.converted;
    }
  }
  return {
    overall: compareGroups(overall),
    versions: [...versions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([version, counts]) => ({ version, ...compareGroups(counts) })),
    daily: [...days.entries()].map(([date, counts]) => ({ date, ...compareGroups(counts) })),
  };
}

async function splitFigures(db: Db, bindings: Bindings, versionFilter: string): Promise<SplitAnalytics[]> {
  // A run's first visit of the split decides its path (a loop may visit it again); held-out runs are left out.
  const result = await rows<{ stepId: string; path: number; entered: number; converted: number }>(
    db,
    `select v.step_id as "stepId",
            v.path::int as path,
            count(*)::int as entered,
            (count(*) filter (where r.status = 'converted'))::int as converted
       from journey_step_visits v
       join journey_runs r on r.workflow_id = v.workflow_id and r.run_id = v.run_id
      where r.journey_id = :journeyId and r.entered_at >= :from and r.entered_at < :to ${versionFilter}
            and not r.held_out and v.visit = 1 and v.path is not null
      group by 1, 2
      order by 1, 2`,
    bindings,
  );
  const splits = new Map<string, { path: number; group: GroupConversion }[]>();
  for (const row of result) {
    const paths = splits.get(row.stepId) ?? [];
    paths.push({ path: row.path, group: groupConversion(row.entered, row.converted) });
    splits.set(row.stepId, paths);
  }
  return [...splits.entries()].map(([stepId, paths]) => {
    const first = paths.find((p) => p.path === 1)?.group ?? groupConversion(0, 0);
    return {
      stepId,
      paths: paths.map(({ path, group }) => ({
        path,
        ...group,
        lift: path === 1 ? null : compareConversion(group, first, { group: `path ${path}`, baseline: 'path 1' }),
      })),
    };
  });
}
