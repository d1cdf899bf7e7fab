import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { PAGERDUTY_PROVIDER } from '../analytics/pagerduty-features.ts';
import { toIso } from './overview.ts';
import { presentTeamFeatureUse, type TeamFeatureUseView } from './team-features.ts';

export interface FeatureUsage {
  key: string;
  name: string;
  description: string;
  category: string;
  scope: 'person' | 'account';
  requirement: string | null;
  /** People with at least one event of the feature in the window. */
  people30d: number;
  people90d: number;
  events30d: number;
  events90d: number;
}

export interface WeeklyActive {
  /** Monday of the ISO week, `YYYY-MM-DD`, in UTC. */
  weekStart: string;
  featureKey: string;
  activePeople: number;
}

export interface WeeklyTeamActive {
  weekStart: string;
  team: string;
  activePeople: number;
}

export interface AccountFeatureView {
  key: string;
  name: string;
  status: 'available' | 'unavailable' | 'unknown';
  reason: string | null;
  configuredCount: number | null;
  /** Uses in the last 90 days where synced records show them; null where nothing can show use. */
  exercisedCount90d: number | null;
}

export interface SignalView {
  signal: string;
  status: 'available' | 'unavailable';
  reason: string | null;
}

export interface FeaturesView {
  computedAt: string | null;
  features: FeatureUsage[];
  weekly: WeeklyActive[];
  weeklyByTeam: WeeklyTeamActive[];
  /** Members of each team who used each feature in the last 30 days. */
  teamFeatureUse: TeamFeatureUseView;
  accountFeatures: AccountFeatureView[];
  signals: SignalView[];
}

export const featuresQuerySchema = z.strictObject({
  /** How many weeks of weekly active people to return, newest last. */
  weeks: z.coerce.number().int().min(1).max(104, 'weeks must be at most 104').default(13),
});

export type FeaturesQuery = z.input<typeof featuresQuerySchema>;

/**
 * Builds the features page of an organization: per-person features with active people and event
 * counts in 30 and 90 days, weekly active people per feature and per team, team by feature use
 * in 30 days, account features configured versus exercised, and which signals were available.
 */
export async function presentFeatures(db: Kysely<DB>, organizationId: string, query: FeaturesQuery = {}): Promise<FeaturesView> {
  const parsed = featuresQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new Error(`Invalid features query: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const { weeks } = parsed.data;

  const computed = await db
    .selectFrom('people')
    .select((eb) => eb.fn.max('computed_at').as('computed_at'))
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .executeTakeFirst();
  const computedAt = computed?.computed_at ?? null;

  const features = await loadFeatureUsage(db, organizationId);
  const weekly = computedAt === null ? [] : await loadWeeklyActive(db, organizationId, new Date(computedAt), weeks);
  const weeklyByTeam = computedAt === null ? [] : await loadWeeklyTeamActive(db, organizationId, new Date(computedAt), weeks);
  const teamFeatureUse = await presentTeamFeatureUse(db, organizationId);

  const accountFeatures = await db
    .selectFrom('account_features as af')
    .innerJoin('features as f', (join) => join.onRef('f.key', '=', 'af.feature_key').on('f.provider', '=', PAGERDUTY_PROVIDER))
    .select(['af.feature_key', 'f.name', 'af.status', 'af.reason', 'af.configured_count', 'af.exercised_count_90d'])
    .where('af.organization_id', '=', organizationId)
    .where('af.connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('f.position')
    .execute();

  const signals = await db
    .selectFrom('signal_availability')
    .select(['signal', 'status', 'reason'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('signal')
    .execute();

  return {
    computedAt: toIso(computedAt),
    features,
    weekly,
    weeklyByTeam,
    teamFeatureUse,
    accountFeatures: accountFeatures.map((row) => ({
      key: row.feature_key,
      name: row.name,
      status: row.status,
      reason: row.reason,
      configuredCount: row.configured_count,
      exercisedCount90d: row.exercised_count_90d,
    })),
    signals: signals.map((row) => ({ signal: row.signal, status: row.status, reason: row.reason })),
  };
}

async function loadFeatureUsage(db: Kysely<DB>, organizationId: string): Promise<FeatureUsage[]> {
  const result = await sql<{
    key: string;
    name: string;
    description: string;
    category: string;
    scope: 'person' | 'account';
    requirement: string | null;
    people_30d: number;
    people_90d: number;
    events_30d: number;
    events_90d: number;
  }>`
    select
      f.key, f.name, f.description, f.category, f.scope, f.requirement,
      (count(pf.external_id) filter (where pf.count_30d > 0))::int as people_30d,
      (count(pf.external_id) filter (where pf.count_90d > 0))::int as people_90d,
      coalesce(sum(pf.count_30d), 0)::int as events_30d,
      coalesce(sum(pf.count_90d), 0)::int as events_90d
    from features f
    left join person_features pf on pf.feature_key = f.key and pf.organization_id = ${organizationId}::uuid
      and pf.connection_id in (${liveConnectionIds(db, organizationId)})
    where f.provider = ${PAGERDUTY_PROVIDER} and f.scope = 'person'
    group by f.key, f.name, f.description, f.category, f.scope, f.requirement, f.position
    order by f.position
  `.execute(db);
  return result.rows.map((row) => ({
    key: row.key,
    name: row.name,
    description: row.description,
    category: row.category,
    scope: row.scope,
    requirement: row.requirement,
    people30d: Number(row.people_30d),
    people90d: Number(row.people_90d),
    events30d: Number(row.events_30d),
    events90d: Number(row.events_90d),
  }));
}

/** Weeks are ISO weeks of UTC days, so a daylight-saving change never makes a week shorter or longer. */
function firstWeekStart(computedAt: Date, weeks: number): string {
  const day = new Date(Date.UTC(computedAt.getUTCFullYear(), computedAt.getUTCMonth(), computedAt.getUTCDate()));
  const daysSinceMonday = (day.getUTCDay() + 6) % 7;
  day.setUTCDate(day.getUTCDate() - daysSinceMonday - 7 * (weeks - 1));
  return day.toISOString().slice(0, 10);
}

/** Reads the weekly active people per feature that the crunch stored, from the first requested week on. */
async function loadWeeklyActive(db: Kysely<DB>, organizationId: string, computedAt: Date, weeks: number): Promise<WeeklyActive[]> {
  const result = await sql<{ week_start: string; feature_key: string; active_people: number }>`
    select w.week_start::text as week_start, w.feature_key, sum(w.active_people)::int as active_people
    from weekly_feature_activity w
    where w.organization_id = ${organizationId}::uuid and w.week_start >= ${firstWeekStart(computedAt, weeks)}::date
      and w.connection_id in (${liveConnectionIds(db, organizationId)})
    group by 1, 2
    order by 1, 2
  `.execute(db);
  return result.rows.map((row) => ({ weekStart: row.week_start, featureKey: row.feature_key, activePeople: Number(row.active_people) }));
}

/**
 * Reads the weekly active members per team that the crunch stored, from the first requested week
 * on. Notifications and stakeholder features do not count; teams are those of the last crunch.
 */
async function loadWeeklyTeamActive(db: Kysely<DB>, organizationId: string, computedAt: Date, weeks: number): Promise<WeeklyTeamActive[]> {
  const result = await sql<{ week_start: string; team: string; active_people: number }>`
    select w.week_start::text as week_start, w.team, sum(w.active_people)::int as active_people
    from weekly_team_activity w
    where w.organization_id = ${organizationId}::uuid and w.week_start >= ${firstWeekStart(computedAt, weeks)}::date
      and w.connection_id in (${liveConnectionIds(db, organizationId)})
    group by 1, 2
    order by 1, 2
  `.execute(db);
  return result.rows.map((row) => ({ weekStart: row.week_start, team: row.team, activePeople: Number(row.active_people) }));
}
