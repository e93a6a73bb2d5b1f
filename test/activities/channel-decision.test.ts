import assert from 'node:assert/strict';
import fc from 'fast-check';
import { channelOrder, dropReason } from '../../activities/channel-decision';
import { quietHoursEnd } from '../../activities/schedule';
import { ConfigError, loadConfig } from '../../runtime/config';
import { roomFor } from '../../stores/frequency-caps';
import type { Channel } from '../../contract/channels';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00' };

  it('ends at 07:00 local on the morning daylight saving starts (New York, 8 March 2026)', () => {
    // 23:00 EST on the 7th; the window ends at 07:00 EDT, an hour less of UTC offset.
    assert.equal(iso(quietHoursEnd(at('2026-03-08T04:00:00Z'), 'America/New_York', night)), '2026-03-08T11:00:00.000Z');
  });

  it('ends at 07:00 local on the morning daylight saving ends (New York, 1 November 2026)', () => {
    // 23:30 EDT on 31 October; the clocks go back at 02:00, the window still ends at 07:00 EST.
    assert.equal(iso(quietHoursEnd(at('2026-11-01T03:30:00Z'), 'America/New_York', night)), '2026-11-01T12:00:00.000Z');
  });

  it('ends the same morning when now is after midnight inside the window', () => {
    assert.equal(iso(quietHoursEnd(at('2026-06-10T10:00:00Z'), 'America/New_York', night)), '2026-06-10T11:00:00.000Z');
  });

  it('handles half-hour zones and windows that do not wrap midnight', () => {
    // 22:30 IST (UTC+5:30) -> 06:00 IST next day.
    assert.equal(
      iso(quietHoursEnd(at('2026-01-10T17:00:00Z'), 'Asia/Kolkata', { start: '22:00', end: '06:00' })),
      '2026-01-11T00:30:00.000Z',
    );
    // 12:30 JST in a 12:00-14:00 window -> 14:00 JST.
    assert.equal(
      iso(quietHoursEnd(at('2026-06-01T03:30:00Z'), 'Asia/Tokyo', { start: '12:00', end: '14:00' })),
      '2026-06-01T05:00:00.000Z',
    );
  });

  it('is not quiet outside the window, at its end, or for an empty window', () => {
    assert.equal(quietHoursEnd(at('2026-03-08T15:00:00Z'), 'America/New_York', night), undefined);
    assert.equal(quietHoursEnd(at('2026-06-10T11:00:00Z'), 'America/New_York', night), undefined); // 07:00 EDT
    assert.equal(
      quietHoursEnd(at('2026-06-10T02:00:00Z'), 'America/New_York', { start: '09:00', end: '09:00' }),
      undefined,
    );
  });

  it('always ends in the future, within 24 hours, at the end time on the local clock (property)', () => {
    const zones = ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
    const hhmm = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2027-01-01T00:00:00Z') }),
        fc.constantFrom(...zones),
        hhmm,
        hhmm,
        (now, zone, start, end) => {
          const until = quietHoursEnd(now, zone, { start, end });
          if (until === undefined) return;
          assert.ok(until > now && until - now <= 25 * 3_600_000, `${start}-${end} ${zone}`);
          const clock = new Intl.DateTimeFormat('en-GB', {
            timeZone: zone,
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          });
          // Unless `end` falls in a spring-forward gap, the local clock shows it.
          const shown = clock.format(new Date(until));
          if (shown !== end) assert.ok(zone !== 'UTC' && zone !== 'Asia/Kolkata', `${zone} shows ${shown}, not ${end}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('frequency cap windows', () => {
  const caps = loadConfig({ FREQUENCY_CAPS: 'all=3/7d,sms=1/24h' }).channels.frequencyCaps;
  const hour = 3_600_000;
  const now = at('2026-05-10T12:00:00Z');

  it('parses caps and names bad ones', () => {
    assert.deepEqual(
      caps.map((c) => [c.channel, c.limit, c.windowMs]),
      [
        ['all', 3, 7 * 24 * hour],
        ['sms', 1, 24 * hour],
      ],
    );
    assert.throws(() => loadConfig({ FREQUENCY_CAPS: 'fax=1/1d' }), ConfigError);
    assert.throws(() => loadConfig({ FREQUENCY_CAPS: 'sms=0/1d' }), /FREQUENCY_CAPS/);
  });

  it('has room under every cap, and says when a full cap has room again', () => {
    assert.equal(roomFor('sms', caps, [], now), undefined);
    const sms = [{ channel: 'sms' as Channel, at: now - 2 * hour }];
    assert.equal(roomFor('sms', caps, sms, now), now - 2 * hour + 24 * hour);
    assert.equal(roomFor('email', caps, sms, now), undefined, 'the sms cap does not hold email');
    const three = [
      { channel: 'email' as Channel, at: now - 100 * hour },
      { channel: 'email' as Channel, at: now - 50 * hour },
      { channel: 'voice' as Channel, at: now - 1 * hour },
    ];
    // The overall cap frees up when its oldest message leaves the 7-day window.
    assert.equal(roomFor('email', caps, three, now), now - 100 * hour + 7 * 24 * hour);
    const old = [{ channel: 'sms' as Channel, at: now - 25 * hour }];
    assert.equal(roomFor('sms', caps, old, now), undefined, 'outside the window');
  });
});

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
