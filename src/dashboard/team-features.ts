import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { PAGERDUTY_PROVIDER } from '../analytics/pagerduty-features.ts';

export interface TeamFeatureCell {
  team: string;
  featureKey: string;
  /** Members of the team with at least one event of the feature in the last 30 days. */
  activePeople: number;
  /** `activePeople` divided by the team's member count, from 0 to 1. */
  share: number;
}

export interface TeamFeatureUseView {
  /** Teams with their current members (people not deleted from PagerDuty), sorted by name. */
  teams: { team: string; memberCount: number }[];
  /** Person-level features that some team member used in the last 30 days, in catalogue order. */
  features: { key: string; name: string }[];
  /** One cell per team and feature with at least one active person; missing cells are zero. */
  cells: TeamFeatureCell[];
}

/**
 * Counts, per team and feature, the members who used the feature in the 30 days before the
 * crunch, and their share of the team. A person in several teams counts in each of them.
 */
export async function presentTeamFeatureUse(db: Kysely<DB>, organizationId: string): Promise<TeamFeatureUseView> {
  const members = sql`
    select p.connection_id, p.external_id, team.name as team
    from people p
    cross join lateral jsonb_array_elements_text(p.teams) as team(name)
    where p.organization_id = ${organizationId}::uuid
      and p.connection_id in (${liveConnectionIds(db, organizationId)})
      and not p.is_deleted
  `;

  const teams = await sql<{ team: string; member_count: number }>`
    with members as (${members})
    select m.team, count(distinct m.connection_id::text || '/' || m.external_id)::int as member_count
    from members m
    group by m.team
  `.execute(db);

  const cells = await sql<{ team: string; feature_key: string; active_people: number }>`
    with members as (${members})
    select m.team, pf.feature_key, count(distinct m.connection_id::text || '/' || m.external_id)::int as active_people
    from members m
    join person_features pf on pf.connection_id = m.connection_id and pf.external_id = m.external_id
    where pf.count_30d > 0
    group by m.team, pf.feature_key
  `.execute(db);

  const usedKeys = new Set(cells.rows.map((row) => row.feature_key));
  const features = await db
    .selectFrom('features')
    .select(['key', 'name'])
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .where('scope', '=', 'person')
    .orderBy('position')
    .execute();

  const memberCounts = new Map(teams.rows.map((row) => [row.team, Number(row.member_count)]));
  return {
    // Sorted here, because PGlite and PostgreSQL may order text by different collations.
    teams: teams.rows.map((row) => ({ team: row.team, memberCount: Number(row.member_count) })).sort((left, right) => left.team.localeCompare(right.team)),
    features: features.filter((feature) => usedKeys.has(feature.key)).map((feature) => ({ key: feature.key, name: feature.name })),
    cells: cells.rows
      .map((row) => {
        const activePeople = Number(row.active_people);
        return { team: row.team, featureKey: row.feature_key, activePeople, share: activePeople / (memberCounts.get(row.team) ?? activePeople) };
      })
      .sort((left, right) => left.team.localeCompare(right.team) || left.featureKey.localeCompare(right.featureKey)),
  };
}
