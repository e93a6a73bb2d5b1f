/** The send-time signals store against PostgreSQL: which rows count, since when, and the most recent first, bounded. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { SIGNALS_READ, sendTimeSignals } from '../../stores/send-time-signals';
import { newConsumerId } from '../support/consumers';
import { postgres } from '../support/resources';
import { recordConversion, recordDelivery } from '../support/send-time-signals';

describe('sendTimeSignals', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('reads the consumer delivered messages and conversions since a time, the most recent of each kind, bounded', async () => {
    const consumerId = await newConsumerId(db);
    const base = Date.parse('2026-10-01T00:00:00Z');
    const hour = 3_600_000;
    // SIGNALS_READ + 5 deliveries an hour apart, and two conversions.
    for (let i = 0; i < SIGNALS_READ + 5; i++) await recordDelivery(db, consumerId, new Date(base + i * hour));
    await recordConversion(db, consumerId, new Date(base + 2 * hour));
    await recordConversion(db, consumerId, new Date(base - 24 * hour));
    await recordDelivery(db, consumerId, new Date(base + 3 * hour), 'sms', 'failed');

    const signals = await sendTimeSignals(db, consumerId, new Date(base));
    const delivered = signals.filter((s) => s.kind === 'delivered').map((s) => s.at.getTime());
    assert.equal(delivered.length, SIGNALS_READ);
    assert.equal(delivered[0], base + (SIGNALS_READ + 4) * hour, 'the most recent first');
    assert.equal(delivered.at(-1), base + 5 * hour, 'the five oldest left out');
    assert.deepEqual(
      signals.filter((s) => s.kind === 'converted').map((s) => s.at.toISOString()),
      [new Date(base + 2 * hour).toISOString()],
      'the conversion before `since` left out',
    );
    assert.deepEqual(await sendTimeSignals(db, await newConsumerId(db), new Date(base)), []);
  });
});
