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
  /** Mondays of the ISO weeks (UTC) from the first synced activity to the crunch, `YYYY-MM-DD`, oldest first. */
  weekStarts: string[];
  /** The first and last UTC day with counted activity; the first and last week may be partial. */
  firstDay: string | null;
  lastDay: string | null;
  /** One series per person-level feature that anyone used in the synced history, in catalogue order. */
  series: WeeklyFeatureSeries[];
}

const EMPTY: WeeklyActivityView = { weekStarts: [], firstDay: null, lastDay: null, series: [] };

/** Organizations whose weekly activity each process keeps; the oldest entry leaves first. */
const CACHE_MAX_ENTRIES = 256;

/**
 * Weekly activity by organization and crunch. The figures change only when a crunch rewrites
 * the activity facts or the live connections change, and both change the key, so an entry is
 * never stale. Counting them reads every activity fact of the history (about a million rows for
 * 5,000 people), which takes seconds, so only the first view after each crunch pays for it.
 */
const cache = new Map<string, WeeklyActivityView>();

/**
 * Counts weekly active people per feature over the synced history of an organization, with a
 * zero for every week a used feature had no one. Weeks are ISO weeks of UTC days and end with
 * the week of the newest crunch. The history starts with the first synced log entry, because the
 * sync reads incident activity for a bounded window only. Older events of other signals, such as
 * a sign-in session created a year ago, would otherwise stretch the chart over empty weeks.
 */
export async function presentWeeklyActivity(db: Kysely<DB>, organizationId: string): Promise<WeeklyActivityView> {
  const crunches = await db
    .selectFrom('people')
    .select(['connection_id', (eb) => eb.fn.max('computed_at').as('computed_at')])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .groupBy('connection_id')
    .execute();
  if (crunches.length === 0) return EMPTY;

  const key = [organizationId, ...crunches.map((crunch) => `${crunch.connection_id}@${new Date(crunch.computed_at).toISOString()}`).sort()].join('|');
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  const newest = Math.max(...crunches.map((crunch) => new Date(crunch.computed_at).getTime()));
  const view = await countWeeklyActivity(db, organizationId, new Date(newest).toISOString().slice(0, 10));
  cache.set(key, view);
  if (cache.size > CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value ?? key);
  return view;
}

async function countWeeklyActivity(db: Kysely<DB>, organizationId: string, lastDay: string): Promise<WeeklyActivityView> {
  const result = await sql<{ week_start: string; feature_key: string; name: string; category: string; active_people: number; first_day: string }>`
    with incident_history as (
      select (min(l.created_at) at time zone 'UTC')::date as first_day
      from pd_log_entries l
      where l.connection_id in (${liveConnectionIds(db, organizationId)})
    ),
    facts as (
      select d.day, d.feature_key, d.external_id
      from activity_daily d
      where d.organization_id = ${organizationId}::uuid
        and d.connection_id in (${liveConnectionIds(db, organizationId)})
        and d.day <= ${lastDay}::date
        and d.day >= coalesce((select first_day from incident_history), '-infinity'::date)
    ),
    -- Distinct people per week come from grouping twice, which PostgreSQL hashes, instead of
    -- count(distinct), which sorts every row. The Monday of a date is the date minus its ISO
    -- weekday plus one, in plain date arithmetic that no session time zone shifts.
    person_weeks as (
      select f.day - (extract(isodow from f.day)::int - 1) as week_start, f.feature_key, f.external_id
      from facts f
      group by 1, 2, 3
    ),
    weekly as (
      select p.week_start, p.feature_key, count(*)::int as active_people
      from person_weeks p
      group by 1, 2
    ),
    bounds as (
      select min(day) as first_day from facts
    ),
    weeks as (
      select (b.first_day - (extract(isodow from b.first_day)::int - 1) + 7 * n) as week_start
      from bounds b
      cross join generate_series(0, (${lastDay}::date - b.first_day) / 7 + 1) as n
      where b.first_day is not null
        and b.first_day - (extract(isodow from b.first_day)::int - 1) + 7 * n <= ${lastDay}::date
    )
    select w.week_start::text as week_start, c.key as feature_key, c.name, c.category,
      coalesce(k.active_people, 0)::int as active_people, (select first_day::text from bounds) as first_day
    from weeks w
    cross join features c
    left join weekly k on k.week_start = w.week_start and k.feature_key = c.key
    where c.provider = ${PAGERDUTY_PROVIDER} and c.scope = 'person'
      and c.key in (select distinct feature_key from weekly)
    order by c.position, w.week_start
  `.execute(db);
  if (result.rows.length === 0) return EMPTY;

  const weekStarts: string[] = [];
  const seriesByKey = new Map<string, WeeklyFeatureSeries>();
  for (const row of result.rows) {
    let series = seriesByKey.get(row.feature_key);
    if (series === undefined) {
      series = { featureKey: row.feature_key, featureName: row.name, category: row.category, activePeople: [] };
      seriesByKey.set(row.feature_key, series);
    }
    // Rows come in feature order, then week order, so the first feature lists every week once.
    if (seriesByKey.size === 1) weekStarts.push(row.week_start);
    series.activePeople.push(Number(row.active_people));
  }

  return { weekStarts, firstDay: result.rows[0]?.first_day ?? null, lastDay, series: [...seriesByKey.values()] };
}
