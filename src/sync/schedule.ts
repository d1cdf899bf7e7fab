import cronParser from 'cron-parser';

export type ScheduledSyncKind = 'full' | 'incremental';

/**
 * The time zone of the sync crons. pg-boss reads a cron in the `tz` of its schedule, and the job
 * queue passes this one.
 */
export const SYNC_SCHEDULE_TIME_ZONE = 'UTC';

/** Every hour at minute 5: an incremental run reads what changed since the high-water marks. */
export const INCREMENTAL_SYNC_CRON = '5 * * * *';

/** Every day at 02:35 UTC: the full run also re-reads the roster lists, which have no updated-since filter. */
export const FULL_SYNC_CRON = '35 2 * * *';

export const SYNC_SCHEDULES: readonly { kind: ScheduledSyncKind; cron: string }[] = [
  { kind: 'incremental', cron: INCREMENTAL_SYNC_CRON },
  { kind: 'full', cron: FULL_SYNC_CRON },
];

export interface ScheduledSync {
  at: Date;
  kind: ScheduledSyncKind;
}

/**
 * Returns the first scheduled sync strictly after `after`, with the kind of its schedule. The run
 * is queued shortly after that instant, because pg-boss 10 checks its schedules every 30 seconds
 * by default (`cronMonitorIntervalSeconds`).
 */
export function nextScheduledSync(after: Date): ScheduledSync {
  let next: ScheduledSync | null = null;
  for (const schedule of SYNC_SCHEDULES) {
    const at = nextCronInstant(schedule.cron, after);
    if (next === null || at.getTime() < next.at.getTime()) next = { at, kind: schedule.kind };
  }
  if (next === null) throw new Error('No sync schedule is defined');
  return next;
}

function nextCronInstant(cron: string, after: Date): Date {
  return cronParser.parseExpression(cron, { currentDate: after, tz: SYNC_SCHEDULE_TIME_ZONE }).next().toDate();
}
