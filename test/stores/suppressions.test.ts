/** The suppression list in PostgreSQL: normalised addresses, idempotent entries, reasons, lifting. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { normaliseAddress, suppress, suppressedChannels, unsuppress } from '../../stores/suppressions';
import { randomPhone } from '../support/consumers';
import { postgres, unique } from '../support/resources';

describe('stores/suppressions', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('normalises addresses per channel', () => {
    assert.equal(normaliseAddress('email', '  Ada@Example.COM '), 'ada@example.com');
    assert.equal(normaliseAddress('sms', ' +14155550100 '), '+14155550100');
  });

  it('suppresses idempotently and reports suppressed channels from the contact points in one map', async () => {
    const email = `${unique('ada')}@example.com`;
    const phone = randomPhone();
    assert.equal(
      await suppress(db, { channel: 'email', address: email.toUpperCase(), reason: 'bounce', source: 't' }),
      true,
    );
    assert.equal(await suppress(db, { channel: 'email', address: email, reason: 'complaint', source: 't' }), false);
    await suppress(db, { channel: 'sms', address: phone, reason: 'stop', source: 't' });
    const map = await suppressedChannels(db, { email: ` ${email} `, phone });
    assert.deepEqual([...map.entries()].sort(), [
      ['email', 'bounce'],
      ['sms', 'stop'],
    ]);
    assert.equal((await suppressedChannels(db, { email: null, phone: null })).size, 0);
    assert.equal(await unsuppress(db, 'sms', phone, ['manual']), false, 'a reason filter leaves a STOP');
    assert.equal(await unsuppress(db, 'sms', phone), true);
    assert.deepEqual([...(await suppressedChannels(db, { email, phone })).keys()], ['email']);
  });
});
