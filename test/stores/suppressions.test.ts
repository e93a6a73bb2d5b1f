/** The suppression list in PostgreSQL: normalised addresses, idempotent entries, reasons, lifting. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import {
  listSuppressions,
  normaliseAddress,
  suppress,
  suppressedChannels,
  unsuppress,
} from '../../stores/suppressions';
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

  it('keeps the first reason and source of an address suppressed twice', async () => {
    const email = `${unique('twice')}@example.com`;
    await suppress(db, { channel: 'email', address: email, reason: 'complaint', source: 'email-webhook' });
    await suppress(db, { channel: 'email', address: email, reason: 'manual', source: 'api' });
    const [entry] = (await listSuppressions(db, { channel: 'email', limit: 1000 })).filter((s) => s.address === email);
    assert.deepEqual([entry?.reason, entry?.source], ['complaint', 'email-webhook']);
  });

  it('suppresses per channel: a phone suppressed for voice still takes SMS', async () => {
    const phone = randomPhone();
    await suppress(db, { channel: 'voice', address: phone, reason: 'manual', source: 't' });
    assert.deepEqual([...(await suppressedChannels(db, { phone })).entries()], [['voice', 'manual']]);
    assert.equal(await unsuppress(db, 'sms', phone), false, 'nothing to lift on sms');
  });

  it('lifts an email suppression whatever the case of the address given', async () => {
    const email = `${unique('case')}@example.com`;
    await suppress(db, { channel: 'email', address: email, reason: 'bounce', source: 't' });
    assert.equal(await unsuppress(db, 'email', ` ${email.toUpperCase()} `), true);
    assert.equal((await suppressedChannels(db, { email })).size, 0);
  });

  it('lists suppressions newest first, by channel, with their normalised address', async () => {
    const first = `${unique('first')}@example.com`;
    const second = `${unique('second')}@example.com`;
    await suppress(db, { channel: 'email', address: first, reason: 'bounce', source: 'email-webhook' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await suppress(db, { channel: 'email', address: second.toUpperCase(), reason: 'manual', source: 'api' });
    const listed = await listSuppressions(db, { channel: 'email', limit: 1000 });
    assert.ok(listed.every((s) => s.channel === 'email'));
    const mine = listed.filter((s) => s.address === first || s.address === second);
    assert.deepEqual(
      mine.map((s) => [s.address, s.reason, s.source]),
      [
        [second, 'manual', 'api'],
        [first, 'bounce', 'email-webhook'],
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(mine[0]!.createdAt)));
    assert.equal((await listSuppressions(db, { limit: 1 })).length, 1);
  });
});
