/**
 * The analytics scenario: two journeys, their published versions, runs reported the way the workflow
 * reports them (repeated and overlapping calls included) and message rows, in a database of their own so
 * that the figures are exact. Seeded once for the analytics route and the run and analytics stores.
 */
import type { Db } from '../../runtime/db';
import { createDb } from '../../runtime/db';
import { migrateLatest } from '../../migrations';
import { recordRunProgress, type RunProgress } from '../../stores/journey-runs';
import { createJourney, publishDraft } from '../../stores/journeys';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { freshDatabase, onTeardown } from './resources';

/** The journey the scenario is about. */
export const JOURNEY = 'cart-nudge';
/** Another journey, whose runs and messages must never count. */
export const OTHER = 'other-journey';

/** A journey that sends, waits for an event and loops back to the send. */
const definition = (id: string): JourneyDefinition => ({
  id,
  name: id,
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [],
  start: 'send',
  steps: [
    { id: 'send', type: 'send', channels: ['email', 'sms'], templates: { email: { text: 'Hi' }, sms: { text: 'Hi' } } },
    {
      id: 'wait',
      type: 'wait-for-event',
      match: { event: 'cart.viewed' },
      timeout: '1 day',
      next: 'send',
      onTimeout: 'done',
    },
    { id: 'done', type: 'exit' },
  ],
});

/** A run of JOURNEY: only what differs between runs is given. */
export const run = (
  name: string,
  fields: Partial<RunProgress> & Pick<RunProgress, 'journeyVersion' | 'enteredAt' | 'status'>,
): RunProgress => ({
  workflowId: `journey:${fields.journeyId ?? JOURNEY}:${name}`,
  runId: `run-${name}`,
  journeyId: JOURNEY,
  consumerId: name,
  steps: [],
  ...fields,
});

let messageCount = 0;
/** Inserts a message row the way the send activities leave it. */
async function message(
  db: Db,
  fields: {
    version: number | null;
    channel: string;
    status: string;
    at: string;
    providerId?: string;
    cost?: string;
    journeyId?: string;
  },
): Promise<void> {
  messageCount += 1;
  await db('messages').insert({
    key: `m-${messageCount}`,
    consumer_id: `c-${messageCount}`,
    journey_id: fields.journeyId ?? JOURNEY,
    journey_version: fields.version,
    step: 'send',
    channel: fields.channel,
    status: fields.status,
    provider: fields.providerId ? 'test' : null,
    provider_id: fields.providerId ?? null,
    cost: fields.cost ?? null,
    currency: fields.cost ? 'EUR' : null,
    created_at: fields.at,
  });
}

/**
 * The scenario, days in November 2026 (UTC); the range under test is 1st to 4th, the 3rd has no activity.
 *
 * runs        version  entered         ended                   steps (visit)
 * r0          1        Oct 31 20:00    converted Nov 2 15:00   send (before the range: not entered in range)
 * r1          1        Nov 1 10:00     converted Nov 2 12:00   send, wait, send(2), wait(2): a loop
 * r2          1        Nov 1 11:00     completed Nov 4 09:00   send, done
 * r3          2        Nov 2 09:00     running                 send, wait
 * r4          2        Nov 4 08:00     failed Nov 4 08:30      send
 * r5          2        Nov 4 23:59:59  converted Nov 5 01:00   send (converted after the range)
 * r6          1        Nov 5 00:00     running                 send (the range's end is excluded)
 * other       1        Nov 1 10:00     converted Nov 1 11:00   send (another journey)
 */
async function seed(db: Db): Promise<void> {
  await createJourney(db, definition(JOURNEY));
  await publishDraft(db, JOURNEY);
  await publishDraft(db, JOURNEY);
  await createJourney(db, definition(OTHER));
  await publishDraft(db, OTHER);

  // r1 reports in three activity calls; the first is retried, the last overlaps the first.
  const r1 = run('r1', { journeyVersion: 1, enteredAt: '2026-11-01T10:00:00Z', status: 'running' });
  const firstSteps = [
    { stepId: 'send', visit: 1, enteredAt: '2026-11-01T10:00:00Z' },
    { stepId: 'wait', visit: 1, enteredAt: '2026-11-01T10:01:00Z' },
  ];
  await recordRunProgress(db, { ...r1, steps: firstSteps });
  await recordRunProgress(db, { ...r1, steps: firstSteps });
  await recordRunProgress(db, {
    ...r1,
    status: 'converted',
    outcome: 'order.placed',
    endedAt: '2026-11-02T12:00:00Z',
    steps: [
      firstSteps[1]!,
      { stepId: 'send', visit: 2, enteredAt: '2026-11-02T10:00:00Z' },
      { stepId: 'wait', visit: 2, enteredAt: '2026-11-02T10:01:00Z' },
    ],
  });

  const send = (enteredAt: string) => ({ stepId: 'send', visit: 1, enteredAt });
  const others: RunProgress[] = [
    run('r0', {
      journeyVersion: 1,
      enteredAt: '2026-10-31T20:00:00Z',
      status: 'converted',
      endedAt: '2026-11-02T15:00:00Z',
      steps: [send('2026-10-31T20:00:00Z')],
    }),
    run('r2', {
      journeyVersion: 1,
      enteredAt: '2026-11-01T11:00:00Z',
      status: 'completed',
      outcome: 'exit',
      endedAt: '2026-11-04T09:00:00Z',
      steps: [send('2026-11-01T11:00:00Z'), { stepId: 'done', visit: 1, enteredAt: '2026-11-04T09:00:00Z' }],
    }),
    run('r3', {
      journeyVersion: 2,
      enteredAt: '2026-11-02T09:00:00Z',
      status: 'running',
      steps: [send('2026-11-02T09:00:00Z'), { stepId: 'wait', visit: 1, enteredAt: '2026-11-02T09:01:00Z' }],
    }),
    run('r4', {
      journeyVersion: 2,
      enteredAt: '2026-11-04T08:00:00Z',
      status: 'failed',
      endedAt: '2026-11-04T08:30:00Z',
      steps: [send('2026-11-04T08:00:00Z')],
    }),
    run('r5', {
      journeyVersion: 2,
      enteredAt: '2026-11-04T23:59:59Z',
      status: 'converted',
      endedAt: '2026-11-05T01:00:00Z',
      steps: [send('2026-11-04T23:59:59Z')],
    }),
    run('r6', {
      journeyVersion: 1,
      enteredAt: '2026-11-05T00:00:00Z',
      status: 'running',
      steps: [send('2026-11-05T00:00:00Z')],
    }),
    run('other', {
      journeyId: OTHER,
      journeyVersion: 1,
      enteredAt: '2026-11-01T10:00:00Z',
      status: 'converted',
      endedAt: '2026-11-01T11:00:00Z',
      steps: [send('2026-11-01T10:00:00Z')],
    }),
  ];
  for (const progress of others) await recordRunProgress(db, progress);

  // Messages in the range.
  await message(db, { version: 1, channel: 'email', status: 'delivered', providerId: 'p1', cost: '0.0004', at: '2026-11-01T10:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'email', status: 'outbox', providerId: 'outbox-1', cost: '0.0004', at: '2026-11-01T11:00:00Z' }); // prettier-ignore
  await message(db, { version: null, channel: 'email', status: 'sent', providerId: 'p2', cost: '0.0004', at: '2026-11-01T12:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'sms', status: 'delivered', providerId: 'p3', cost: '0.0083', at: '2026-11-02T10:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'sms', status: 'failed', at: '2026-11-02T10:05:00Z' });
  await message(db, { version: 2, channel: 'sms', status: 'failed', providerId: 'p4', cost: '0.0083', at: '2026-11-02T11:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'email', status: 'bounced', providerId: 'p5', cost: '0.0004', at: '2026-11-04T08:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'voice', status: 'opted-out', at: '2026-11-04T08:10:00Z' });
  await message(db, { version: 2, channel: 'email', status: 'skipped', at: '2026-11-04T08:20:00Z' });
  await message(db, { version: 2, channel: 'print', status: 'sent', providerId: 'p6', cost: '0.75', at: '2026-11-04T09:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'sms', status: 'queued', at: '2026-11-04T10:00:00Z' });
  // Outside the range, or of another journey.
  await message(db, { version: 1, channel: 'email', status: 'delivered', providerId: 'p7', cost: '0.0004', at: '2026-10-31T23:59:59Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'sms', status: 'delivered', providerId: 'p8', cost: '0.0083', at: '2026-11-05T00:00:00Z' }); // prettier-ignore
  await message(db, { journeyId: OTHER, version: 1, channel: 'email', status: 'delivered', providerId: 'p9', cost: '0.0004', at: '2026-11-01T10:00:00Z' }); // prettier-ignore
}

let seeded: Promise<Db> | undefined;

/** A fresh, migrated database holding the scenario above; shared, closed at teardown. */
export function analyticsDatabase(): Promise<Db> {
  seeded ??= (async () => {
    const db = createDb(await freshDatabase());
    onTeardown(() => db.destroy());
    await migrateLatest(db);
    await seed(db);
    return db;
  })();
  return seeded;
}
