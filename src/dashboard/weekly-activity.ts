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
  /** The first and last UTC day the weeks cover; the first and last week may be partial. */
  firstDay: string | null;
  lastDay: string | null;
  /** One series per person-level feature that anyone used in the synced history, in catalogue order. */
  series: WeeklyFeatureSeries[];
}

const EMPTY: WeeklyActivityView = { weekStarts: [], firstDay: null, lastDay: null, series: [] };

/**
 * Counts weekly active people per feature over the whole synced history of an organization, with
 * a zero for every week a used feature had no one. Weeks are ISO weeks of UTC days and end with
 * the week of the newest crunch; later days are left out.
 */
export async function presentWeeklyActivity(db: Kysely<DB>, organizationId: string): Promise<WeeklyActivityView> {
  const crunch = await db
    .selectFrom('people')
    .select((eb) => eb.fn.max('computed_at').as('computed_at'))
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .executeTakeFirst();
  if (crunch?.computed_at === null || crunch?.computed_at === undefined) return EMPTY;
  const lastDay = new Date(crunch.computed_at).toISOString().slice(0, 10);

  const result = await sql<{ week_start: string; feature_key: string; name: string; category: string; active_people: number; first_day: string }>`
    with facts as (
      select d.day, d.feature_key, d.external_id
      from activity_daily d
      where d.organization_id = ${organizationId}::uuid
        and d.connection_id in (${liveConnectionIds(db, organizationId)})
        and d.day <= ${lastDay}::date
    ),
    weekly as (
      select date_trunc('week', f.day)::date as week_start, f.feature_key, count(distinct f.external_id)::int as active_people
      from facts f
      group by 1, 2
    ),
    bounds as (
      select min(day) as first_day from facts
    ),
    weeks as (
      select generate_series(date_trunc('week', b.first_day), date_trunc('week', ${lastDay}::date), interval '7 days')::date as week_start
      from bounds b
      where b.first_day is not null
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
