import { describe, expect, it } from 'vitest';
import { JOBS } from './queue.ts';
import { nextScheduledSync } from './schedule.ts';

function next(after: string): { at: string; kind: string } {
  const scheduled = nextScheduledSync(new Date(after));
  return { at: scheduled.at.toISOString(), kind: scheduled.kind };
}

describe('nextScheduledSync', () => {
  it('queue schedules use these crons', () => {
    expect(JOBS.incrementalSyncSchedule.cron).toBe('5 * * * *');
    expect(JOBS.fullSyncSchedule.cron).toBe('35 2 * * *');
  });

  it('hourly run within the hour', () => {
    expect(next('2026-12-05T14:00:00.000Z')).toEqual({ at: '2026-12-05T14:05:00.000Z', kind: 'incremental' });
    expect(next('2026-12-05T14:04:59.999Z')).toEqual({ at: '2026-12-05T14:05:00.000Z', kind: 'incremental' });
  });

  it('hour boundary moves to the next hour', () => {
    // A run exactly at its instant is already due, so the next one is an hour later.
    expect(next('2026-12-05T14:05:00.000Z')).toEqual({ at: '2026-12-05T15:05:00.000Z', kind: 'incremental' });
    expect(next('2026-12-05T14:05:00.001Z')).toEqual({ at: '2026-12-05T15:05:00.000Z', kind: 'incremental' });
    expect(next('2026-12-05T14:59:59.999Z')).toEqual({ at: '2026-12-05T15:05:00.000Z', kind: 'incremental' });
  });

  it('day boundary moves to the next day', () => {
    expect(next('2026-12-05T23:05:00.000Z')).toEqual({ at: '2026-12-06T00:05:00.000Z', kind: 'incremental' });
    expect(next('2026-12-31T23:30:00.000Z')).toEqual({ at: '2027-01-01T00:05:00.000Z', kind: 'incremental' });
    expect(next('2028-02-28T23:06:00.000Z')).toEqual({ at: '2028-02-29T00:05:00.000Z', kind: 'incremental' });
  });

  it('daily full run at 02:35 UTC', () => {
    expect(next('2026-12-05T02:05:00.000Z')).toEqual({ at: '2026-12-05T02:35:00.000Z', kind: 'full' });
    expect(next('2026-12-05T02:34:59.999Z')).toEqual({ at: '2026-12-05T02:35:00.000Z', kind: 'full' });
    expect(next('2026-12-05T02:35:00.000Z')).toEqual({ at: '2026-12-05T03:05:00.000Z', kind: 'incremental' });
  });

  it('hourly run before the daily one', () => {
    expect(next('2026-12-05T01:50:00.000Z')).toEqual({ at: '2026-12-05T02:05:00.000Z', kind: 'incremental' });
    expect(next('2026-12-05T02:04:00.000Z')).toEqual({ at: '2026-12-05T02:05:00.000Z', kind: 'incremental' });
  });

  it('ignores the instant offset it was given in', () => {
    // 16:50 in UTC+14 is 02:50 UTC, after the daily run of that UTC day.
    expect(next('2026-12-05T16:50:00.000+14:00')).toEqual({ at: '2026-12-05T03:05:00.000Z', kind: 'incremental' });
    // 21:30 in UTC-5 is 02:30 UTC the next day, before the daily run.
    expect(next('2026-12-04T21:30:00.000-05:00')).toEqual({ at: '2026-12-05T02:35:00.000Z', kind: 'full' });
  });
});
