import assert from 'node:assert/strict';
import { nextWakeUp, zonedInstant } from '../../activities/schedule';

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
