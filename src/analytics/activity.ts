import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { PAGERDUTY_FEATURES, PAGERDUTY_PROVIDER, type FeatureDefinition } from './pagerduty-features.ts';
import type { CrunchScope } from './scope.ts';
import { daysBefore } from './scope.ts';

/**
 * Activity facts: events per person, feature and UTC day (`activity_daily`), and per-person feature
 * use with counts in rolling windows (`person_features`). Events come from the raw tables through
 * the catalogue's event sources; receiving a notification is an event of its feature too.
 */

/** Rewrites the `features` table from the catalogue, so SQL and presenters can join on it. */
export async function writeFeatureCatalogue(trx: Transaction<DB>, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): Promise<void> {
  await trx.deleteFrom('features').where('provider', '=', PAGERDUTY_PROVIDER).execute();
  await trx
    .insertInto('features')
    .values(
      features.map((feature, position) => ({
        provider: PAGERDUTY_PROVIDER,
        key: feature.key,
        name: feature.name,
        description: feature.description,
        category: feature.category,
        scope: feature.scope,
        requirement: feature.requirement,
        signals: JSON.stringify(feature.signals),
        position,
      })),
    )
    .execute();
}

/**
 * Recomputes `activity_daily` for the UTC days from `changedSince` on (all days when undefined).
 * Events after `asOf` are left out, so a crunch never counts the future.
 */
export async function recomputeActivityDaily(trx: Transaction<DB>, scope: CrunchScope, changedSince: Date | undefined): Promise<void> {
  const firstDay = changedSince === undefined ? null : startOfUtcDay(changedSince);

  let deletion = trx.deleteFrom('activity_daily').where('connection_id', '=', scope.connectionId);
  if (firstDay !== null) deletion = deletion.where('day', '>=', firstDay.toISOString().slice(0, 10));
  await deletion.execute();

  const events = featureEvents(scope, firstDay);
  if (events === null) return;
  await sql`
    insert into activity_daily (connection_id, organization_id, external_id, feature_key, day, event_count, first_at, last_at)
    select
      ${scope.connectionId}::uuid, ${scope.organizationId}::uuid, events.person_id, events.feature_key,
      (events.at at time zone 'UTC')::date, count(*)::int, min(events.at), max(events.at)
    from (${events}) events
    group by events.person_id, events.feature_key, (events.at at time zone 'UTC')::date
  `.execute(trx);
}

/**
 * Recomputes `person_features`: first and last use over the synced history from `activity_daily`,
 * and exact counts of events in the 30, 60 and 90 days before `asOf` from the raw records.
 */
export async function recomputePersonFeatures(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const start30 = daysBefore(scope.asOf, 30);
  const start60 = daysBefore(scope.asOf, 60);
  const start90 = daysBefore(scope.asOf, 90);

  await trx.deleteFrom('person_features').where('connection_id', '=', scope.connectionId).execute();

  const recentEvents = featureEvents(scope, start90);
  if (recentEvents === null) return;
  await sql`
    insert into person_features (
      connection_id, organization_id, external_id, feature_key,
      first_used_at, last_used_at, count_30d, count_60d, count_90d, computed_at
    )
    with history as (
      select d.external_id, d.feature_key, min(d.first_at) as first_used_at, max(d.last_at) as last_used_at
      from activity_daily d
      where d.connection_id = ${scope.connectionId}::uuid
      group by d.external_id, d.feature_key
    ),
    recent as (
      select
        events.person_id, events.feature_key,
        count(*) filter (where events.at >= ${start30}::timestamptz) as count_30d,
        count(*) filter (where events.at >= ${start60}::timestamptz) as count_60d,
        count(*) as count_90d
      from (${recentEvents}) events
      group by events.person_id, events.feature_key
    )
    select
      ${scope.connectionId}::uuid, ${scope.organizationId}::uuid, history.external_id, history.feature_key,
      history.first_used_at, history.last_used_at,
      coalesce(recent.count_30d, 0)::int, coalesce(recent.count_60d, 0)::int, coalesce(recent.count_90d, 0)::int,
      ${scope.asOf}::timestamptz
    from history
    left join recent on recent.person_id = history.external_id and recent.feature_key = history.feature_key
  `.execute(trx);
}

/**
 * Builds one query of every event `(person_id, feature_key, at)` of the connection created in
 * `[since, asOf]` (or up to `asOf` when `since` is null), one branch per kind of event source.
 * Returns null when the catalogue has no event sources.
 */
export function featureEvents(scope: CrunchScope, since: Date | null, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): RawBuilder<unknown> | null {
  const sources = collectSources(features);
  const branches: RawBuilder<unknown>[] = [];
  const connection = sql`${scope.connectionId}::uuid`;
  const window = (column: RawBuilder<unknown>) =>
    since === null
      ? sql`${column} <= ${scope.asOf}::timestamptz`
      : sql`${column} >= ${since}::timestamptz and ${column} <= ${scope.asOf}::timestamptz`;

  if (sources.logEntryTypes.length > 0) {
    branches.push(sql`
      select e.agent_id as person_id, m.feature_key, e.created_at as at
      from pd_log_entries e
      join (values ${pairs(sources.logEntryTypes)}) as m(match, feature_key) on m.match = e.type
      where e.connection_id = ${connection} and e.agent_type = 'user_reference' and e.agent_id is not null
        and ${window(sql.ref('e.created_at'))}`);
  }
  if (sources.logEntryChannels.length > 0) {
    branches.push(sql`
      select e.agent_id as person_id, m.feature_key, e.created_at as at
      from pd_log_entries e
      join (values ${pairs(sources.logEntryChannels)}) as m(match, feature_key) on m.match = e.channel_type
      where e.connection_id = ${connection} and e.agent_type = 'user_reference' and e.agent_id is not null
        and ${window(sql.ref('e.created_at'))}`);
  }
  if (sources.notificationTypes.length > 0) {
    branches.push(sql`
      select n.user_id as person_id, m.feature_key, n.started_at as at
      from pd_notifications n
      join (values ${pairs(sources.notificationTypes)}) as m(match, feature_key) on m.match = n.type
      where n.connection_id = ${connection} and n.user_id is not null and ${window(sql.ref('n.started_at'))}`);
  }
  if (sources.delegationTypes.length > 0) {
    branches.push(sql`
      select d.user_id as person_id, m.feature_key, d.created_at as at
      from pd_oauth_delegations d
      join (values ${pairs(sources.delegationTypes)}) as m(match, feature_key) on m.match = d.delegation_type
      where d.connection_id = ${connection} and d.created_at is not null and ${window(sql.ref('d.created_at'))}`);
  }
  for (const featureKey of sources.oncallShift) {
    branches.push(sql`
      select o.user_id as person_id, ${featureKey}::text as feature_key, o.start_at as at
      from pd_oncalls o
      where o.connection_id = ${connection} and o.start_at is not null and ${window(sql.ref('o.start_at'))}`);
  }
  for (const featureKey of sources.scheduleOverride) {
    branches.push(sql`
      select so.user_id as person_id, ${featureKey}::text as feature_key, so.start_at as at
      from pd_schedule_overrides so
      where so.connection_id = ${connection} and so.user_id is not null and ${window(sql.ref('so.start_at'))}`);
  }
  for (const featureKey of sources.analyticsSignIn) {
    branches.push(sql`
      select au.user_id as person_id, ${featureKey}::text as feature_key, au.last_sign_in_at as at
      from pd_analytics_users au
      where au.connection_id = ${connection} and au.last_sign_in_at is not null and ${window(sql.ref('au.last_sign_in_at'))}`);
  }
  for (const featureKey of sources.auditRecord) {
    branches.push(sql`
      select ar.actor_id as person_id, ${featureKey}::text as feature_key, ar.execution_time as at
      from pd_audit_records ar
      where ar.connection_id = ${connection} and ar.actor_type = 'user_reference' and ar.actor_id is not null
        and ${window(sql.ref('ar.execution_time'))}`);
  }

  if (branches.length === 0) return null;
  return sql.join(branches, sql` union all `);
}

interface CollectedSources {
  logEntryTypes: Array<[string, string]>;
  logEntryChannels: Array<[string, string]>;
  notificationTypes: Array<[string, string]>;
  delegationTypes: Array<[string, string]>;
  oncallShift: string[];
  scheduleOverride: string[];
  analyticsSignIn: string[];
  auditRecord: string[];
}

/** Groups the catalogue's event sources by kind, so each raw table is read by one branch. */
function collectSources(features: readonly FeatureDefinition[]): CollectedSources {
  const collected: CollectedSources = {
    logEntryTypes: [],
    logEntryChannels: [],
    notificationTypes: [],
    delegationTypes: [],
    oncallShift: [],
    scheduleOverride: [],
    analyticsSignIn: [],
    auditRecord: [],
  };
  for (const feature of features) {
    for (const source of feature.events) {
      switch (source.kind) {
        case 'log_entry_type':
          for (const type of source.types) collected.logEntryTypes.push([type, feature.key]);
          break;
        case 'log_entry_channel':
          for (const channel of source.channels) collected.logEntryChannels.push([channel, feature.key]);
          break;
        case 'notification':
          collected.notificationTypes.push([source.type, feature.key]);
          break;
        case 'oauth_delegation':
          collected.delegationTypes.push([source.delegationType, feature.key]);
          break;
        case 'oncall_shift':
          collected.oncallShift.push(feature.key);
          break;
        case 'schedule_override':
          collected.scheduleOverride.push(feature.key);
          break;
        case 'analytics_sign_in':
          collected.analyticsSignIn.push(feature.key);
          break;
        case 'audit_record':
          collected.auditRecord.push(feature.key);
          break;
        default: {
          const unreachable: never = source;
          throw new Error(`Unknown feature event source ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }
  return collected;
}

/** Renders `(match, feature_key), ...` as bound text parameters for a VALUES list. */
function pairs(entries: Array<[string, string]>): RawBuilder<unknown> {
  return sql.join(entries.map(([match, featureKey]) => sql`(${match}::text, ${featureKey}::text)`));
}

function startOfUtcDay(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}
