import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextWakeUp, quietHoursEnd, zonedInstant } from '../../activities/schedule';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('nextWakeUp (wait-until)', () => {
  it('finds the next local time of day in the consumer time zone', () => {
    const result = nextWakeUp({ now: '2026-06-10T20:00:00Z', timeZone: 'Europe/Berlin', timeOfDay: '09:00' });
    assert.equal(result.until, '2026-06-11T07:00:00.000Z'); // 09:00 CEST = UTC+2
  });

  it('keeps 09:00 local across the spring-forward change (New York, 2026-03-08)', () => {
    const result = nextWakeUp({ now: '2026-03-07T15:00:00Z', timeZone: 'America/New_York', timeOfDay: '09:00' });
    assert.equal(result.until, '2026-03-08T13:00:00.000Z'); // 09:00 EDT = UTC-4 (the day before was UTC-5)
  });

  it('keeps 09:00 local across the fall-back change (New York, 2026-11-01)', () => {
    const result = nextWakeUp({ now: '2026-10-31T14:00:00Z', timeZone: 'America/New_York', timeOfDay: '09:00' });
    assert.equal(result.until, '2026-11-01T14:00:00.000Z'); // 09:00 EST = UTC-5
  });

  it('moves a time skipped by spring-forward to the same wall time after the change', () => {
    assert.equal(
      new Date(zonedInstant(2026, 3, 8, 2, 30, 'America/New_York')).toISOString(),
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('waits for an allowed weekday', () => {
    // 2026-11-20 is a Friday; Mondays only -> 2026-11-23 10:00 Tokyo (UTC+9)
    const result = nextWakeUp({
      now: '2026-11-20T00:00:00Z',
      timeZone: 'Asia/Tokyo',
      timeOfDay: '10:00',
      weekdays: [1],
    });
    assert.equal(result.until, '2026-11-23T01:00:00.000Z');
  });

  it('does not wait when today’s time has not passed yet, and is never before now', () => {
    const result = nextWakeUp({ now: '2026-11-20T08:59:00Z', timeZone: 'UTC', timeOfDay: '09:00' });
    assert.equal(result.until, '2026-11-20T09:00:00.000Z');
  });

  it('counts from a date attribute plus a negative offset, then the time of day', () => {
    // the day before an appointment at 2026-12-03 10:00 Berlin, at 18:00 local
    const result = nextWakeUp({
      now: '2026-11-22T12:00:00Z',
      timeZone: 'Europe/Berlin',
      at: { value: '2026-12-03T09:00:00Z', offset: '-1 day' },
      timeOfDay: '18:00',
    });
    assert.equal(result.until, '2026-12-02T17:00:00.000Z');
  });

  it('does not wait for a date already past, nor for a missing date', () => {
    assert.equal(
      nextWakeUp({ now: '2026-11-22T12:00:00Z', at: { value: '2026-01-01T00:00:00Z' } }).until,
      '2026-11-22T12:00:00.000Z',
    );
    const missing = nextWakeUp({ now: '2026-11-22T12:00:00Z', at: { value: undefined } });
    assert.equal(missing.until, '2026-11-22T12:00:00.000Z');
    assert.match(missing.note ?? '', /missing/);
  });

  it('falls back to UTC for an unknown time zone', () => {
    const result = nextWakeUp({ now: '2026-11-22T12:00:00Z', timeZone: 'Mars/Olympus', timeOfDay: '13:00' });
    assert.deepEqual([result.until, result.timeZone], ['2026-11-22T13:00:00.000Z', 'UTC']);
  });
});

describe('quietHoursEnd (quiet hours)', () => {
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
