/** Consumers in PostgreSQL: one-statement create-or-update, contact points, attribute merges. */
import assert from 'node:assert/strict';
import type { PostalAddress } from '../../contract/channels';
import type { Db } from '../../runtime/db';
import {
  contactPoints,
  getConsumer,
  mergeConsumerAttributes,
  reachableChannels,
  upsertConsumer,
} from '../../stores/consumers';
import { postgres, unique } from '../support/resources';

const address: PostalAddress = {
  name: 'Ada Lovelace',
  lines: ['12 St James Square'],
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

describe('stores/consumers', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  describe('upsertConsumer', () => {
    it('creates a consumer with nothing set: no contact points, empty attributes', async () => {
      const id = unique('c');
      const { consumer, created } = await upsertConsumer(db, id, {});
      assert.equal(created, true);
      assert.deepEqual(
        [consumer.id, consumer.email, consumer.phone, consumer.postalAddress, consumer.attributes],
        [id, null, null, null, {}],
      );
      assert.equal(consumer.createdAt, consumer.updatedAt);
      assert.deepEqual(await getConsumer(db, id), consumer);
    });

    it('updates only the given fields, clears a contact point with null and says it did not create', async () => {
      const id = unique('c');
      const first = await upsertConsumer(db, id, {
        email: 'ada@example.com',
        phone: '+14155550100',
        postalAddress: address,
        attributes: { tier: 'gold', firstName: 'Ada' },
      });
      const { consumer, created } = await upsertConsumer(db, id, { phone: null, attributes: { tier: 'silver' } });
      assert.equal(created, false);
      assert.equal(consumer.email, 'ada@example.com');
      assert.equal(consumer.phone, null);
      assert.deepEqual(consumer.postalAddress, address);
      // Attributes given are the new attributes (a journey's update-profile step merges instead).
      assert.deepEqual(consumer.attributes, { tier: 'silver' });
      assert.equal(consumer.createdAt, first.consumer.createdAt);
      assert.ok(Date.parse(consumer.updatedAt) > Date.parse(first.consumer.updatedAt), 'updatedAt moves on');
      assert.deepEqual(await getConsumer(db, id), consumer);
    });

    it('stores a postal address as given and clears it with null', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { postalAddress: { ...address, region: 'Greater London' } });
      assert.deepEqual((await getConsumer(db, id))?.postalAddress, { ...address, region: 'Greater London' });
      await upsertConsumer(db, id, { postalAddress: null });
      assert.equal((await getConsumer(db, id))?.postalAddress, null);
    });

    it('creates exactly once when racing upserts of a new id all arrive together', async () => {
      const id = unique('c');
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => upsertConsumer(db, id, { attributes: { writer: i } })),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal((await db('consumers').where({ id })).length, 1);
    });
  });

  describe('getConsumer', () => {
    it('answers undefined for an unknown id', async () => {
      assert.equal(await getConsumer(db, unique('none')), undefined);
    });
  });

  describe('mergeConsumerAttributes', () => {
    it('merges keys into the stored attributes, keeping the others, and returns the result', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { attributes: { firstName: 'Lin', tier: 'silver', nested: { a: 1 } } });
      const merged = await mergeConsumerAttributes(db, id, { tier: 'gold', promotedBy: 'journey' });
      assert.deepEqual(merged, { firstName: 'Lin', tier: 'gold', nested: { a: 1 }, promotedBy: 'journey' });
      assert.deepEqual((await getConsumer(db, id))?.attributes, merged);
    });

    it('keeps every one of several concurrent merges of different keys', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, {});
      await Promise.all(Array.from({ length: 6 }, (_, i) => mergeConsumerAttributes(db, id, { [`key${i}`]: i })));
      assert.deepEqual(Object.keys((await getConsumer(db, id))!.attributes).sort(), [
        'key0',
        'key1',
        'key2',
        'key3',
        'key4',
        'key5',
      ]);
    });

    it('answers undefined for an unknown consumer and creates none', async () => {
      const id = unique('none');
      assert.equal(await mergeConsumerAttributes(db, id, { tier: 'gold' }), undefined);
      assert.equal(await getConsumer(db, id), undefined);
    });
  });

  describe('contactPoints and reachableChannels', () => {
    it('reach email by address, SMS and voice by phone, print by the addressee of the postal address', () => {
      const everything = { email: 'ada@example.com', phone: '+14155550100', postalAddress: address };
      assert.deepEqual(contactPoints(everything), {
        email: 'ada@example.com',
        sms: '+14155550100',
        voice: '+14155550100',
        print: 'Ada Lovelace',
      });
      assert.deepEqual(reachableChannels(everything), ['email', 'sms', 'voice', 'print']);
      assert.deepEqual(reachableChannels({ email: null, phone: '+14155550100', postalAddress: null }), [
        'sms',
        'voice',
      ]);
      assert.deepEqual(reachableChannels({ email: null, phone: null, postalAddress: address }), ['print']);
      assert.deepEqual(reachableChannels({ email: null, phone: null, postalAddress: null }), []);
    });
  });
});
