import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { PAGERDUTY_FEATURES, type FeatureCategory } from './pagerduty-features.ts';
import type { CrunchScope } from './scope.ts';

/** Feature categories left out of the team figures, because they show receiving, not working. */
const NON_TEAM_CATEGORIES: readonly FeatureCategory[] = ['notifications', 'stakeholder'];

/**
 * The keys of the features that count for the team figures. They are bound as a list rather than
 * read from the `features` table, because PostgreSQL estimates a join with that table at a few
 * rows, then sorts a million person weeks that hashing groups in under half the time.
 */
const TEAM_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => !NON_TEAM_CATEGORIES.includes(feature.category)).map((feature) => feature.key);

/**
 * Recomputes the weekly figures of one connection from its activity facts: active people per
 * feature and week, the weeks in which each person was active in team-level features, and active
 * members per team and week. With `changedSince`, only the weeks from the one that contains that
 * instant (in UTC) are recounted, because the activity facts before that day did not change. The
 * team figures are always recounted from the stored person weeks, because team membership may
 * have changed. Must run after the activity facts and the people (teams) of the crunch are written.
 */
export async function recomputeWeeklyActivity(trx: Transaction<DB>, scope: CrunchScope, changedSince: Date | undefined): Promise<void> {
  const fromWeek = changedSince === undefined ? null : mondayOfUtcDay(changedSince);
  const connection = sql`${scope.connectionId}::uuid`;
  const organization = sql`${scope.organizationId}::uuid`;
  const weekFilter = fromWeek === null ? sql`true` : sql`week_start >= ${fromWeek}::date`;
  const dayFilter = fromWeek === null ? sql`true` : sql`d.day >= ${fromWeek}::date`;
  // Stored weeks before the first recounted one stay; a full recount keeps none.
  const keptWeekFilter = fromWeek === null ? sql`false` : sql`kept.week_start < ${fromWeek}::date`;
  // The Monday of a date is the date minus its ISO weekday plus one, in plain date arithmetic
  // that no session time zone shifts.
  const weekOfDay = sql`d.day - (extract(isodow from d.day)::int - 1)`;

  await sql`delete from weekly_feature_activity where connection_id = ${connection} and ${weekFilter}`.execute(trx);
  // One scan of the daily facts feeds both tables, because a query that names a CTE twice
  // computes it once. Distinct people per week come from grouping twice, which PostgreSQL
  // hashes, instead of count(distinct), which sorts every row. The data-modifying CTE runs to
  // completion although nothing reads it.
  await sql`
    with person_feature_weeks as (
      select ${weekOfDay} as week_start, d.feature_key, d.external_id, min(d.day) as first_day
      from activity_daily d
      where d.connection_id = ${connection} and ${dayFilter}
      group by 1, 2, 3
    ),
    feature_weeks as (
      insert into weekly_feature_activity (connection_id, organization_id, week_start, feature_key, active_people, first_day)
      select ${connection}, ${organization}, p.week_start, p.feature_key, count(*)::int, min(p.first_day)
      from person_feature_weeks p
      group by p.week_start, p.feature_key
    ),
    recounted as (
      select w.external_id, array_agg(w.week_start order by w.week_start) as week_starts
      from (
        select p.external_id, p.week_start
        from person_feature_weeks p
        where p.feature_key = any(${TEAM_FEATURE_KEYS}::text[])
        group by p.external_id, p.week_start
      ) w
      group by w.external_id
    ),
    merged as (
      select
        coalesce(stored.external_id, recounted.external_id) as external_id,
        array(select kept.week_start from unnest(stored.week_starts) as kept(week_start) where ${keptWeekFilter} order by kept.week_start)
          || coalesce(recounted.week_starts, '{}'::date[]) as week_starts
      from (select a.external_id, a.week_starts from person_active_weeks a where a.connection_id = ${connection}) stored
      full join recounted on recounted.external_id = stored.external_id
    ),
    emptied as (
      delete from person_active_weeks a
      using merged m
      where a.connection_id = ${connection} and a.external_id = m.external_id and cardinality(m.week_starts) = 0
    )
    insert into person_active_weeks (connection_id, organization_id, external_id, week_starts)
    select ${connection}, ${organization}, m.external_id, m.week_starts
    from merged m
    where cardinality(m.week_starts) > 0
    on conflict (connection_id, external_id) do update set week_starts = excluded.week_starts
    where person_active_weeks.week_starts is distinct from excluded.week_starts
  `.execute(trx);

  await sql`delete from weekly_team_activity where connection_id = ${connection}`.execute(trx);
  await sql`
    insert into weekly_team_activity (connection_id, organization_id, week_start, team, active_people)
    select ${connection}, ${organization}, w.week_start, team.name, count(distinct a.external_id)::int
    from person_active_weeks a
    join people p on p.connection_id = a.connection_id and p.external_id = a.external_id
    cross join lateral unnest(a.week_starts) as w(week_start)
    cross join lateral jsonb_array_elements_text(p.teams) as team(name)
    where a.connection_id = ${connection}
    group by w.week_start, team.name
  `.execute(trx);
}

/** Returns the Monday (`YYYY-MM-DD`) of the ISO week that contains the UTC day of `instant`. */
function mondayOfUtcDay(instant: Date): string {
  const day = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}
