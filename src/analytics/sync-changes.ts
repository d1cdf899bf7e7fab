import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { INCREMENTAL_OVERLAP_MS } from '../sync/streams/activity.ts';

/**
 * Streams whose records carry the instants of activity events and that read on from a high-water
 * mark: a pass writes records from `highWaterMark − INCREMENTAL_OVERLAP_MS` on, and a successful
 * pass sets the mark to the run's start (`sync_runs.started_at`).
 */
const WINDOWED_EVENT_STREAMS = ['log_entries', 'notifications', 'audit_records'] as const;

/**
 * Streams whose records carry activity events from any day of the synced history whenever they
 * read at all: on-call shifts, schedule overrides, sign-ins and OAuth delegations.
 */
const WHOLE_HISTORY_EVENT_STREAMS = ['oncalls', 'schedules', 'analytics_users', 'oauth_delegations'] as const;

/** PagerDuty's `since` has second precision, and the streams round a window's start down to it. */
const SINCE_PRECISION_MS = 1000;

/**
 * Finds the earliest instant whose activity events may have changed since the last crunch, for the
 * crunch after sync run `syncRunId`. It looks at that run and at every run since the newest earlier
 * run that finished as `succeeded` or `partial`, the statuses a run sets only after its crunch.
 *
 * Returns undefined, so the crunch recomputes the whole history, when no earlier run was crunched,
 * when a whole-history stream read pages, or when a windowed stream read pages without an earlier
 * successful pass to resume from. A stream that read no page (not due, unavailable) changed nothing.
 */
export async function findChangedSince(db: Kysely<DB>, connectionId: string, syncRunId: string): Promise<Date | undefined> {
  const run = await db.selectFrom('sync_runs').select('started_at').where('id', '=', syncRunId).executeTakeFirst();
  if (run?.started_at === null || run?.started_at === undefined) return undefined;
  const runStart = new Date(run.started_at);

  const lastCrunched = await sql<{ started_at: Date | string | null }>`
    select max(r.started_at) as started_at
    from sync_runs r
    where r.connection_id = ${connectionId}::uuid and r.id <> ${syncRunId}::uuid and r.status in ('succeeded', 'partial')
  `.execute(db);
  const lastCrunchedStart = lastCrunched.rows[0]?.started_at ?? null;
  if (lastCrunchedStart === null) return undefined;

  const uncrunched = await sql<{ stream: string }>`
    select distinct s.stream
    from sync_run_streams s
    join sync_runs r on r.id = s.sync_run_id
    where r.connection_id = ${connectionId}::uuid and s.pages > 0
      and (r.id = ${syncRunId}::uuid or r.started_at > ${new Date(lastCrunchedStart)}::timestamptz)
  `.execute(db);
  const readStreams = uncrunched.rows.map((row) => row.stream);
  if (readStreams.some((stream) => (WHOLE_HISTORY_EVENT_STREAMS as readonly string[]).includes(stream))) return undefined;

  let earliest = runStart;
  for (const stream of readStreams.filter((name) => (WINDOWED_EVENT_STREAMS as readonly string[]).includes(name))) {
    const resumedFrom = await findHighWaterMarkAt(db, connectionId, stream, new Date(lastCrunchedStart));
    if (resumedFrom === null) return undefined;
    const windowStart = new Date(resumedFrom.getTime() - INCREMENTAL_OVERLAP_MS - SINCE_PRECISION_MS);
    if (windowStart < earliest) earliest = windowStart;
  }
  return earliest;
}

/**
 * Returns the high-water mark `stream` had when the run started at `crunchedRunStart` finished:
 * the start of the newest run up to that one in which the stream succeeded. Later passes read on
 * from it, minus the overlap.
 */
async function findHighWaterMarkAt(db: Kysely<DB>, connectionId: string, stream: string, crunchedRunStart: Date): Promise<Date | null> {
  const result = await sql<{ started_at: Date | string | null }>`
    select max(r.started_at) as started_at
    from sync_runs r
    join sync_run_streams s on s.sync_run_id = r.id
    where r.connection_id = ${connectionId}::uuid and r.started_at <= ${crunchedRunStart}::timestamptz
      and s.stream = ${stream} and s.status = 'succeeded'
  `.execute(db);
  const startedAt = result.rows[0]?.started_at ?? null;
  return startedAt === null ? null : new Date(startedAt);
}
