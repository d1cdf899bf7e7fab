import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { PAGERDUTY_PROVIDER } from '../analytics/pagerduty-features.ts';

export interface WeeklyFeatureSeries {
  featureKey: string;
  featureName: string;
  category: string;
  /** Distinct people with an event of the feature in each week of `weekStarts`, in the same order. */
  activePeople: number[];
}

export interface WeeklyActivityView {
  /** Mondays of the ISO weeks (UTC) from the first counted activity to the crunch, `YYYY-MM-DD`, oldest first. */
  weekStarts: string[];
  /** The first and last UTC day with counted activity; the first and last week may be partial. */
  firstDay: string | null;
  lastDay: string | null;
  /** One series per person-level feature that anyone used in the counted weeks, in catalogue order. */
  series: WeeklyFeatureSeries[];
}

const EMPTY: WeeklyActivityView = { weekStarts: [], firstDay: null, lastDay: null, series: [] };
const WEEK_MS = 7 * 86_400_000;

/**
 * Reads the weekly active people per feature that the crunch stored, over the synced history of
 * an organization, with a zero for every week a used feature had no one. Weeks are ISO weeks of
 * UTC days and end with the week of the newest crunch. The history starts with the week of the
 * first synced log entry, because the sync reads incident activity for a bounded window only.
 * Older events of other signals, such as a sign-in session created a year ago, would otherwise
 * stretch the chart over empty weeks. A person active in two live connections counts in each.
 */
export async function presentWeeklyActivity(db: Kysely<DB>, organizationId: string): Promise<WeeklyActivityView> {
  const crunched = await db
    .selectFrom('people')
    .select((eb) => eb.fn.max('computed_at').as('computed_at'))
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .executeTakeFirst();
  if (crunched?.computed_at === null || crunched?.computed_at === undefined) return EMPTY;
  const lastDay = new Date(crunched.computed_at).toISOString().slice(0, 10);

  // One index probe per live connection: a min() over `connection_id in (...)` scanned every log entry.
  const history = await sql<{ first_at: Date | string | null }>`
    select min(first_entry.created_at) as first_at
    from connections c
    cross join lateral (
      select l.created_at from pd_log_entries l where l.connection_id = c.id order by l.created_at limit 1
    ) first_entry
    where c.id in (${liveConnectionIds(db, organizationId)})
  `.execute(db);
  const firstAt = history.rows[0]?.first_at ?? null;
  const historyStart = firstAt === null ? null : mondayOf(new Date(firstAt));

  const result = await sql<{ week_start: string; feature_key: string; name: string; category: string; active_people: number; first_day: string }>`
    select w.week_start::text as week_start, w.feature_key, c.name, c.category,
      sum(w.active_people)::int as active_people, min(w.first_day)::text as first_day
    from weekly_feature_activity w
    join features c on c.provider = ${PAGERDUTY_PROVIDER} and c.key = w.feature_key and c.scope = 'person'
    where w.organization_id = ${organizationId}::uuid
      and w.connection_id in (${liveConnectionIds(db, organizationId)})
      and w.week_start <= ${lastDay}::date
      and w.week_start >= coalesce(${historyStart}::date, '-infinity'::date)
    group by w.week_start, w.feature_key, c.name, c.category, c.position
    order by c.position, w.week_start
  `.execute(db);
  if (result.rows.length === 0) return EMPTY;

  const firstDay = result.rows.reduce((first, row) => (row.first_day < first ? row.first_day : first), result.rows[0]?.first_day ?? lastDay);
  const weekStarts: string[] = [];
  for (let week = Date.parse(`${mondayOf(new Date(`${firstDay}T00:00:00Z`))}T00:00:00Z`); week <= Date.parse(`${lastDay}T00:00:00Z`); week += WEEK_MS) {
    weekStarts.push(new Date(week).toISOString().slice(0, 10));
  }
  const weekIndex = new Map(weekStarts.map((week, index) => [week, index]));

  const seriesByKey = new Map<string, WeeklyFeatureSeries>();
  for (const row of result.rows) {
    let series = seriesByKey.get(row.feature_key);
    if (series === undefined) {
      series = { featureKey: row.feature_key, featureName: row.name, category: row.category, activePeople: weekStarts.map(() => 0) };
      seriesByKey.set(row.feature_key, series);
    }
    const index = weekIndex.get(row.week_start);
    if (index !== undefined) series.activePeople[index] = Number(row.active_people);
  }

  return { weekStarts, firstDay, lastDay, series: [...seriesByKey.values()] };
}

/** Returns the Monday (`YYYY-MM-DD`) of the ISO week that contains the UTC day of `instant`. */
function mondayOf(instant: Date): string {
  const day = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}
