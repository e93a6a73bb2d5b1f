/**
 * Send-time optimisation's arithmetic (activities/send-time.ts), against values worked out by hand: each signal
 * weighs 0.5^(age in hours / 720), i.e. half every 30 days; the hold goes to the next local `HH:00` of the best hour.
 */
import assert from 'node:assert/strict';
import { hourWeights, insideQuietHours, planSendTime } from '../../activities/send-time';
import type { SendTimeSignal } from '../../stores/send-time-signals';

const signal = (iso: string, kind: SendTimeSignal['kind'] = 'delivered'): SendTimeSignal => ({
  at: new Date(iso),
  kind,
});

/** 2026-12-10 21:00 in Tokyo (UTC+9, no daylight saving). */
const NOW = Date.parse('2026-12-10T12:00:00Z');
const TOKYO = 'Asia/Tokyo';

/**
 * Two deliveries a month old at 19:00-19:30 Tokyo, one conversion this morning at 10:00 Tokyo, four deliveries two
 * and three months old at 08:00 Tokyo (23:00 UTC the day before).
 */
const SIGNALS = [
  signal('2026-11-10T10:00:00Z'), // 19:00, age 30 d 2 h = 722 h: 0.5^(722/720) = 0.499038
  signal('2026-11-10T10:30:00Z'), // 19:30, age 721.5 h: 0.499278
  signal('2026-12-10T01:00:00Z', 'converted'), // 10:00, age 11 h: 0.5^(11/720) = 0.989466
  signal('2026-10-10T23:00:00Z'), // 08:00, age 60 d 13 h = 1453 h: 0.246891
  signal('2026-10-11T23:00:00Z'), // 08:00, age 1429 h: 0.252662
  signal('2026-10-12T23:00:00Z'), // 08:00, age 1405 h: 0.258567
  signal('2026-09-10T23:00:00Z'), // 08:00, age 90 d 13 h = 2173 h: 0.123445
];

describe('send-time optimisation: learning the best hour', () => {
  it('sums recency-weighted signals per local hour: two a month old beat one from this morning and four older', () => {
    const hours = hourWeights(SIGNALS, NOW, TOKYO).map((h) => ({ ...h, weight: Math.round(h.weight * 1e6) / 1e6 }));
    assert.deepEqual(hours, [
      { hour: 19, weight: 0.998317, count: 2 }, // 0.499038 + 0.499278 (+ rounding)
      { hour: 10, weight: 0.989466, count: 1 },
      { hour: 8, weight: 0.881565, count: 4 }, // 0.246891 + 0.252662 + 0.258567 + 0.123445
    ]);
  });

  it('breaks a tie of weights by the number of signals, then by the earlier hour', () => {
    const hours = hourWeights(
      [
        signal('2026-12-11T09:00:00Z'), // after now: counts 1
        signal('2026-11-10T12:00:00Z'), // exactly 30 days old: 0.5
        signal('2026-11-10T12:00:00Z'), // 0.5 again: 1.0 from two signals
        signal('2026-12-12T07:00:00Z'), // after now: 1, as 09:00 has
      ],
      NOW,
      'UTC',
    );
    assert.deepEqual(
      hours.map((h) => [h.hour, h.weight, h.count]),
      [
        [12, 1, 2],
        [7, 1, 1],
        [9, 1, 1],
      ],
    );
  });

  it('judges quiet hours on the local clock, wrapping midnight', () => {
    const night = { start: '21:00', end: '08:00' };
    assert.equal(insideQuietHours(19 * 60, night), false);
    assert.equal(insideQuietHours(21 * 60, night), true);
    assert.equal(insideQuietHours(7 * 60 + 59, night), true);
    assert.equal(insideQuietHours(8 * 60, night), false);
    assert.equal(insideQuietHours(13 * 60, { start: '12:00', end: '14:00' }), true);
    assert.equal(insideQuietHours(13 * 60, undefined), false);
  });
});

describe('send-time optimisation: the hold', () => {
  const since = new Date(NOW).toISOString();

  it('holds a send at 21:00 Tokyo to 19:00 the next day, learned from the signals', () => {
    const plan = planSendTime({ now: NOW, zone: TOKYO, setting: { since }, signals: SIGNALS });
    // 2026-12-11 19:00 Tokyo = 10:00 UTC, 22 h later: within the default 24 hours.
    assert.equal(new Date(plan.until!).toISOString(), '2026-12-11T10:00:00.000Z');
    assert.deepEqual(plan.decision, {
      timeZone: TOKYO,
      signals: 7,
      hours: [
        { hour: 19, weight: 0.998317, count: 2 },
        { hour: 10, weight: 0.989466, count: 1 },
        { hour: 8, weight: 0.881565, count: 4 },
      ],
      bestHour: 19,
      source: 'learned',
      target: '19:00',
      outcome: 'held',
    });
  });

  it('sends at once within the hour from the target, and when the next one is past maxHold', () => {
    const at1930 = Date.parse('2026-12-11T10:30:00Z');
    const within = planSendTime({ now: at1930, zone: TOKYO, setting: { since }, signals: SIGNALS });
    assert.equal(within.until, undefined);
    assert.equal(within.decision.outcome, 'now');
    const short = planSendTime({ now: NOW, zone: TOKYO, setting: { since, maxHold: '21 hours' }, signals: SIGNALS });
    assert.equal(short.until, undefined);
    assert.equal(short.decision.outcome, 'max-hold-exceeded');
    // maxHold counts from the step's first decision (`since`), not from this one: the next 19:00 Tokyo is 22 h from
    // now, within 23 hours of now but not of a first decision two hours ago.
    const later = planSendTime({
      now: NOW,
      zone: TOKYO,
      setting: { since: new Date(NOW - 7_200_000).toISOString(), maxHold: '23 hours' },
      signals: SIGNALS,
    });
    assert.equal(later.decision.outcome, 'max-hold-exceeded');
    const fromNow = planSendTime({ now: NOW, zone: TOKYO, setting: { since, maxHold: '23 hours' }, signals: SIGNALS });
    assert.equal(fromNow.decision.outcome, 'held');
  });

  it('falls back to the default time under minSignals or with learn: false, and leaves quiet hours out', () => {
    const few = planSendTime({ now: NOW, zone: TOKYO, setting: { since, minSignals: 8 }, signals: SIGNALS });
    assert.deepEqual([few.decision.source, few.decision.target, few.decision.bestHour], ['default', '10:00', 19]);
    // Next 10:00 Tokyo: 2026-12-11 01:00 UTC.
    assert.equal(new Date(few.until!).toISOString(), '2026-12-11T01:00:00.000Z');
    const fixed = planSendTime({
      now: NOW,
      zone: TOKYO,
      setting: { since, learn: false, defaultTime: '09:30' },
      signals: SIGNALS,
    });
    assert.deepEqual([fixed.decision.source, fixed.decision.target], ['default', '09:30']);
    assert.equal(new Date(fixed.until!).toISOString(), '2026-12-11T00:30:00.000Z');
    // Quiet 18:00-22:00: 19 is left out, 10 is the best hour outside them.
    const quiet = planSendTime({
      now: NOW,
      zone: TOKYO,
      setting: { since },
      signals: SIGNALS,
      quietHours: { start: '18:00', end: '22:00' },
    });
    assert.deepEqual([quiet.decision.bestHour, quiet.decision.target, quiet.decision.outcome], [10, '10:00', 'held']);
    // A default time inside the quiet hours is not held for: the quiet hours decide.
    const night = planSendTime({
      now: NOW,
      zone: TOKYO,
      setting: { since, learn: false, defaultTime: '23:00' },
      signals: [],
      quietHours: { start: '22:00', end: '07:00' },
    });
    assert.deepEqual([night.until, night.decision.outcome], [undefined, 'target-in-quiet-hours']);
  });

  it('holds to the local hour across a daylight-saving change', () => {
    // New York, 2026-11-01: clocks go back at 02:00 EDT. Asked at 2026-10-31 20:00 EDT (00:00 UTC), best hour 19.
    const zone = 'America/New_York';
    const signals = [signal('2026-10-30T23:10:00Z'), signal('2026-10-29T23:20:00Z'), signal('2026-10-28T23:30:00Z')];
    const since = '2026-11-01T00:00:00Z';
    const plan = planSendTime({ now: Date.parse(since), zone, setting: { since }, signals });
    // 19:00 EST on 2026-11-01 is 00:00 UTC on 2026-11-02: 23 hours on the clock, 24 real ones (the clock went back).
    assert.deepEqual([plan.decision.bestHour, plan.decision.outcome], [19, 'held']);
    assert.equal(new Date(plan.until!).toISOString(), '2026-11-02T00:00:00.000Z');
    const short = planSendTime({ now: Date.parse(since), zone, setting: { since, maxHold: '23 hours' }, signals });
    assert.equal(short.decision.outcome, 'max-hold-exceeded');
  });
});
