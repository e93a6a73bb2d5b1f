import assert from 'node:assert/strict';
import { channelOrder, dropReason } from '../../activities/channel-decision';
import type { Channel } from '../../contract/channels';

describe('channel order and eligibility', () => {
  const journeyChannels = {
    default: ['email', 'sms', 'print'] as Channel[],
    personas: { senior: ['voice'] as Channel[] },
  };

  it('takes the step list, else the consumer order, else the persona rule, else the journey default', () => {
    assert.deepEqual(channelOrder({ channels: ['sms'], journeyChannels }, { channelOrder: ['email'] }, {}), {
      order: ['sms'],
      orderFrom: 'step',
    });
    assert.deepEqual(
      channelOrder({ channels: 'auto', journeyChannels }, { channelOrder: ['print'] }, { persona: 'senior' }),
      {
        order: ['print', 'email', 'sms'],
        orderFrom: 'consumer',
      },
    );
    assert.deepEqual(
      channelOrder({ channels: 'auto', journeyChannels }, { channelOrder: null }, { persona: 'senior' }),
      {
        order: ['voice', 'email', 'sms', 'print'],
        orderFrom: 'persona',
      },
    );
    assert.deepEqual(channelOrder({ channels: 'auto', journeyChannels }, { channelOrder: null }, {}), {
      order: ['email', 'sms', 'print'],
      orderFrom: 'journey',
    });
    assert.deepEqual(channelOrder({ channels: 'auto' }, { channelOrder: null }, {}), {
      order: ['email', 'sms', 'voice', 'print'],
      orderFrom: 'default',
    });
  });

  it('names the first reason a channel cannot be used; transactional topics ignore topic opt-outs', () => {
    const request = {
      templates: ['email', 'sms', 'voice'] as Channel[],
      exclude: ['voice'] as Channel[],
      topic: 'news',
    };
    const consumer = { email: 'a@example.com', phone: null, postalAddress: null };
    const preferences = { channels: {}, topics: { news: false } };
    const none = new Map<Channel, string>();
    assert.equal(dropReason('voice', request, consumer, preferences, false, none), 'already-tried');
    assert.equal(dropReason('print', request, consumer, preferences, false, none), 'no-template');
    assert.equal(dropReason('sms', request, consumer, preferences, false, none), 'no-contact-point');
    assert.equal(dropReason('email', request, consumer, preferences, false, none), 'topic-opted-out');
    assert.equal(dropReason('email', request, consumer, preferences, true, none), undefined);
    assert.equal(
      dropReason('email', request, consumer, { channels: { email: false }, topics: {} }, true, none),
      'channel-opted-out',
    );
    assert.equal(
      dropReason('email', request, consumer, { channels: {}, topics: {} }, false, new Map([['email', 'bounce']])),
      'suppressed',
    );
  });
});
