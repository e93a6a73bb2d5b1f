/** Contact preferences in PostgreSQL: defaults without a row, one-statement merges, topic opt-outs. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { defaultPreferences, getPreferences, setTopicPreference, updatePreferences } from '../../stores/preferences';
import { newConsumerId } from '../support/consumers';
import { postgres, unique } from '../support/resources';

describe('stores/preferences', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  describe('getPreferences', () => {
    it('answers the defaults, opted in on every channel, for a consumer who set none and for an unknown one', async () => {
      const id = await newConsumerId(db);
      const defaults = {
        consumerId: id,
        channels: { email: true, sms: true, voice: true, print: true },
        topics: {},
        channelOrder: null,
        quietHours: null,
        timeZone: null,
        locale: null,
        updatedAt: null,
      };
      assert.deepEqual(await getPreferences(db, id), defaults);
      assert.deepEqual(defaultPreferences(id), defaults);
      const unknown = unique('none');
      assert.deepEqual(await getPreferences(db, unknown), { ...defaults, consumerId: unknown });
    });
  });

  describe('updatePreferences', () => {
    it('merges channels and topics key by key, sets other fields only when given, and null clears', async () => {
      const id = await newConsumerId(db);
      const first = await updatePreferences(db, id, {
        channels: { sms: false },
        topics: { marketing: false },
        channelOrder: ['sms', 'email'],
        quietHours: { start: '21:00', end: '08:00' },
        timeZone: 'Europe/Paris',
        locale: 'fr-FR',
      });
      assert.deepEqual(first?.channels, { email: true, sms: false, voice: true, print: true });
      assert.ok(first?.updatedAt);

      const second = await updatePreferences(db, id, { channels: { email: false }, topics: { billing: true } });
      assert.deepEqual(second?.channels, { email: false, sms: false, voice: true, print: true });
      assert.deepEqual(second?.topics, { marketing: false, billing: true });
      assert.deepEqual(
        [second?.channelOrder, second?.quietHours, second?.timeZone, second?.locale],
        [['sms', 'email'], { start: '21:00', end: '08:00' }, 'Europe/Paris', 'fr-FR'],
      );

      const third = await updatePreferences(db, id, { channelOrder: null, quietHours: null, locale: null });
      assert.deepEqual(
        [third?.channelOrder, third?.quietHours, third?.timeZone, third?.locale],
        [null, null, 'Europe/Paris', null],
      );
      assert.deepEqual(await getPreferences(db, id), third);
      // Only the opt-outs and opt-ins given are stored; the other channels are opted in by default.
      const row = await db('consumer_preferences').where({ consumer_id: id }).first();
      assert.deepEqual(row.channels, { email: false, sms: false });
    });

    it('keeps every one of several concurrent changes to different channels', async () => {
      const id = await newConsumerId(db);
      await Promise.all(
        (['email', 'sms', 'voice', 'print'] as const).map((channel) =>
          updatePreferences(db, id, { channels: { [channel]: false } }),
        ),
      );
      assert.deepEqual((await getPreferences(db, id)).channels, {
        email: false,
        sms: false,
        voice: false,
        print: false,
      });
    });

    it('answers undefined for an unknown consumer and writes nothing', async () => {
      const id = unique('none');
      assert.equal(await updatePreferences(db, id, { channels: { sms: false } }), undefined);
      assert.equal(await db('consumer_preferences').where({ consumer_id: id }).first(), undefined);
    });
  });

  describe('setTopicPreference', () => {
    it('opts out of one topic and back in, leaving the other topics', async () => {
      const id = await newConsumerId(db);
      await updatePreferences(db, id, { topics: { billing: false } });
      assert.equal(await setTopicPreference(db, id, 'marketing', false), true);
      assert.deepEqual((await getPreferences(db, id)).topics, { billing: false, marketing: false });
      assert.equal(await setTopicPreference(db, id, 'marketing', true), true);
      assert.deepEqual((await getPreferences(db, id)).topics, { billing: false, marketing: true });
    });

    it('answers false for an unknown consumer', async () => {
      assert.equal(await setTopicPreference(db, unique('none'), 'marketing', false), false);
    });
  });
});
