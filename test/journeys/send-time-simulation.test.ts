/**
 * A simulated run of a send step with `sendTime`: the simulation's decision (the real one, over in-memory sources
 * that have no send-time signals) holds each send to the step's default time in journey time, and writes nothing.
 */
import assert from 'node:assert/strict';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { simulateJourney } from '../../journeys/simulation/engine';
import { loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { upsertConsumer } from '../../stores/consumers';
import { postgres, unique } from '../support/resources';

const HOUR = 3_600_000;

describe('simulateJourney with a sendTime step', function () {
  this.timeout(120_000);
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('holds every send to the default time and reports the deferrals', async () => {
    const ids = [unique('c'), unique('c'), unique('c')];
    for (const id of ids) await upsertConsumer(db, id, { email: `${id}@example.com` });
    // Six hours ahead of now, on the hour, in UTC (the consumers have no zone): always a hold of 5 to 6 hours.
    const target = `${String((new Date().getUTCHours() + 6) % 24).padStart(2, '0')}:00`;
    const definition: JourneyDefinition = {
      id: unique('send-time-sim'),
      name: 'statement at a fixed hour',
      topic: 'statements',
      trigger: { event: 'statement.ready' },
      reentry: { policy: 'never' },
      goals: [],
      exits: [],
      start: 'notify',
      steps: [
        {
          id: 'notify',
          type: 'send',
          channels: ['email'],
          templates: { email: { subject: 'Statement', text: 'Ready.' } },
          sendTime: { learn: false, defaultTime: target },
          next: 'done',
        },
        { id: 'done', type: 'exit' },
      ],
    };
    const report = await simulateJourney(
      { journey: { journeyId: definition.id, version: 0, definition }, label: 'draft' },
      { sample: { consumerIds: ids }, events: [], horizon: '3 days', seed: 1 },
      { db, settings: loadConfig({}).channels },
    );
    assert.equal(report.runs.total, 3);
    assert.equal(report.messages.sent.email, 3);
    assert.deepEqual(report.messages.deferred, { 'send-time': 3 });
    const p50 = report.duration.p50?.ms ?? 0;
    assert.ok(p50 >= 5 * HOUR && p50 <= 6 * HOUR + 60_000, `journey time ${report.duration.p50?.text}`);
    assert.deepEqual(await db('messages').whereIn('consumer_id', ids), [], 'nothing written');
  });
});
