/** Registered topics in PostgreSQL: create-or-update in one statement, transactional or not. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { getTopic, listTopics, upsertTopic } from '../../stores/topics';
import { postgres, unique } from '../support/resources';

describe('stores/topics', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('creates, then updates: an absent name keeps the stored one, a given name replaces it', async () => {
    const id = unique('topic');
    assert.deepEqual(await upsertTopic(db, id, { name: 'Billing', transactional: true }), {
      topic: { id, name: 'Billing', transactional: true },
      created: true,
    });
    assert.deepEqual(await upsertTopic(db, id, { transactional: false }), {
      topic: { id, name: 'Billing', transactional: false },
      created: false,
    });
    assert.equal((await upsertTopic(db, id, { name: 'Bills', transactional: false })).topic.name, 'Bills');
    assert.deepEqual(await getTopic(db, id), { id, name: 'Bills', transactional: false });
  });

  it('creates a topic without a name', async () => {
    const id = unique('topic');
    assert.deepEqual((await upsertTopic(db, id, { transactional: false })).topic, {
      id,
      name: null,
      transactional: false,
    });
  });

  it('answers undefined for a topic nobody registered', async () => {
    assert.equal(await getTopic(db, unique('topic')), undefined);
  });

  it('lists the registered topics by id', async () => {
    const prefix = unique('list');
    await upsertTopic(db, `${prefix}-b`, { transactional: true });
    await upsertTopic(db, `${prefix}-a`, { name: 'A', transactional: false });
    const mine = (await listTopics(db)).filter((t) => t.id.startsWith(prefix));
    assert.deepEqual(mine, [
      { id: `${prefix}-a`, name: 'A', transactional: false },
      { id: `${prefix}-b`, name: null, transactional: true },
    ]);
  });
});
