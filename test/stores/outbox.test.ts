/** The development outbox in PostgreSQL: one item per message key, listed newest first, never delivered. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { listOutbox, putInOutbox } from '../../stores/outbox';
import { postgres, unique } from '../support/resources';

describe('stores/outbox', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('stores a message once per key: a retry answers the same id and keeps the first content', async () => {
    const messageKey = unique('key');
    const id = await putInOutbox(db, { messageKey, channel: 'sms', recipient: '+14155550100', body: 'first' });
    const again = await putInOutbox(db, { messageKey, channel: 'sms', recipient: '+14155550100', body: 'second' });
    assert.equal(again, id);
    const items = (await listOutbox(db, { channel: 'sms', limit: 1000 })).filter((i) => i.messageKey === messageKey);
    assert.deepEqual(
      items.map((i) => [i.id, i.body, i.subject, i.delivered]),
      [[id, 'first', null, false]],
    );
  });

  it('lists newest first, by channel, up to the limit', async () => {
    const first = unique('key');
    const second = unique('key');
    const letter = unique('key');
    await putInOutbox(db, {
      messageKey: first,
      channel: 'email',
      recipient: 'a@example.com',
      subject: 'One',
      body: '1',
    });
    await putInOutbox(db, {
      messageKey: second,
      channel: 'email',
      recipient: 'b@example.com',
      subject: 'Two',
      body: '2',
    });
    await putInOutbox(db, { messageKey: letter, channel: 'print', recipient: 'Ada Lovelace, London', body: '3' });
    const emails = await listOutbox(db, { channel: 'email', limit: 1000 });
    assert.ok(emails.every((i) => i.channel === 'email'));
    assert.deepEqual(
      emails.filter((i) => i.messageKey === first || i.messageKey === second).map((i) => [i.messageKey, i.subject]),
      [
        [second, 'Two'],
        [first, 'One'],
      ],
    );
    const [newest] = await listOutbox(db, { limit: 1 });
    assert.equal(newest?.messageKey, letter);
    assert.ok(!Number.isNaN(Date.parse(newest.createdAt)));
  });
});
