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

/**
 * Writes the catalogue to the `features` table, so SQL and presenters can join on it. It changes
 * the table only when the stored rows differ from the catalogue, which happens once after an
 * upgrade. An upsert takes a row lock on every feature even when nothing changes, and that lock
 * would make the crunches of all other connections wait for this whole crunch transaction.
 */
export async function writeFeatureCatalogue(trx: Transaction<DB>, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): Promise<void> {
  const rows = features.map((feature, position) => ({
    provider: PAGERDUTY_PROVIDER,
    key: feature.key,
    name: feature.name,
    description: feature.description,
    category: feature.category,
    scope: feature.scope,
    requirement: feature.requirement,
    signals: JSON.stringify(feature.signals),
    position,
  }));
  const stored = await trx
    .selectFrom('features')
    .select(['key', 'name', 'description', 'category', 'scope', 'requirement', 'signals', 'position'])
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .orderBy('position')
    .execute();
  const isCurrent =
    stored.length === rows.length &&
    stored.every((row, index) => {
      const expected = rows[index];
      return (
        expected !== undefined &&
        row.key === expected.key &&
        row.name === expected.name &&
        row.description === expected.description &&
        row.category === expected.category &&
        row.scope === expected.scope &&
        row.requirement === expected.requirement &&
        JSON.stringify(row.signals) === expected.signals &&
        row.position === expected.position
      );
    });
  if (isCurrent) return;

  // Crunches of other connections may write the same rows at once, so this upserts rather than replacing.
  await trx
    .insertInto('features')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['provider', 'key']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        description: eb.ref('excluded.description'),
        category: eb.ref('excluded.category'),
        scope: eb.ref('excluded.scope'),
        requirement: eb.ref('excluded.requirement'),
        signals: eb.ref('excluded.signals'),
        position: eb.ref('excluded.position'),
      })),
    )
    .execute();
  await trx
    .deleteFrom('features')
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .where(
      'key',
      'not in',
      features.map((feature) => feature.key),
    )
    .execute();
}

const DAY_MS = 86_400_000;

/** Memory for the crunch's sorts and hash aggregates; PostgreSQL's 4 MB default spills them to disk. */
const CRUNCH_WORK_MEM = '256MB';

/**
 * The same on PGlite, which runs in a 32-bit WebAssembly heap of at most 4 GiB inside the Node.js
 * process and never returns memory it has grown to. With 256 MB, each hash node of a crunch
 * statement may take twice that (`hash_mem_multiplier` is 2), and the process keeps that memory.
 */
const PGLITE_CRUNCH_WORK_MEM = '32MB';

/** Raises `work_mem` for the rest of the crunch transaction only (less on PGlite), and sets its other planner and commit settings. */
export async function raiseWorkMemory(trx: Transaction<DB>): Promise<void> {
  const workMem = (await isPglite(trx)) ? PGLITE_CRUNCH_WORK_MEM : CRUNCH_WORK_MEM;
  await sql.raw(`set local work_mem = '${workMem}'`).execute(trx);
  // Compiling the crunch's large statements with LLVM took longer than it saved on PostgreSQL 15.
  await sql`set local jit = off`.execute(trx);
  // The commit need not wait for the WAL flush, because the next crunch recomputes one lost in a crash.
  await sql`set local synchronous_commit = off`.execute(trx);
}

/** Returns whether the database is PGlite, whose `version()` names the WebAssembly target. */
async function isPglite(trx: Transaction<DB>): Promise<boolean> {
  const result = await sql<{ is_pglite: boolean }>`select version() like '%emscripten%' as is_pglite`.execute(trx);
  return result.rows[0]?.is_pglite === true;
}

/**
 * Recomputes `activity_daily` for the UTC days from `changedSince` on (all days when undefined).
 * Events after `asOf` are left out, so a crunch never counts the future. Returns the start of the
 * first recomputed day, which is earlier than `changedSince` when events passed since the previous
 * crunch, or undefined when every day was recomputed.
 *
 * Only the differences between the new facts and the stored ones reach `activity_daily`: deleting
 * and re-inserting the same keys in one transaction makes every unique-index check visit the dead
 * rows, which made a full recompute several times slower.
 */
export async function recomputeActivityDaily(trx: Transaction<DB>, scope: CrunchScope, changedSince: Date | undefined): Promise<Date | undefined> {
  let firstDay = changedSince === undefined ? null : startOfUtcDay(await includePassedEvents(trx, scope, changedSince));
  // The table is unlogged, so a server crash or a restored physical backup empties it while the
  // other figures stay. Without any fact of the connection, every day is recomputed, which costs
  // nothing more for a connection whose raw records hold no event.
  if (firstDay !== null && !(await hasActivityFacts(trx, scope.connectionId))) firstDay = null;
  const dayFilter = firstDay === null ? sql`true` : sql`a.day >= ${firstDay.toISOString().slice(0, 10)}::date`;
  const connection = sql`${scope.connectionId}::uuid`;

  // A first crunch, or one whose days hold no facts yet, has nothing to compare, so the facts go
  // straight to the table.
  const existing = await sql<{ has_facts: boolean }>`
    select exists (select 1 from activity_daily a where a.connection_id = ${connection} and ${dayFilter}) as has_facts
  `.execute(trx);
  if (existing.rows[0]?.has_facts !== true) {
    await insertActivityFacts(trx, scope, firstDay);
    return firstDay ?? undefined;
  }

  // One hash full join of the new facts with the stored ones finds every difference, and the three
  // writes then touch only those rows. The new facts are never stored whole.
  const events = featureEvents(scope, firstDay) ?? NO_EVENTS;
  await sql`
    create temporary table crunch_activity_changes on commit drop as
    select
      coalesce(n.external_id, a.external_id) as external_id, coalesce(n.feature_key, a.feature_key) as feature_key,
      coalesce(n.day, a.day) as day, n.event_count, n.first_at, n.last_at,
      a.external_id is null as is_new, n.external_id is null as is_removed
    from (
      select events.person_id as external_id, events.feature_key, (events.at at time zone 'UTC')::date as day,
        count(*)::int as event_count, min(events.at) as first_at, max(events.at) as last_at
      from (${events}) events
      group by events.person_id, events.feature_key, (events.at at time zone 'UTC')::date
    ) n
    full join (
      select a.external_id, a.feature_key, a.day, a.event_count, a.first_at, a.last_at
      from activity_daily a
      where a.connection_id = ${connection} and ${dayFilter}
    ) a on a.external_id = n.external_id and a.feature_key = n.feature_key and a.day = n.day
    where a.external_id is null or n.external_id is null
      or (a.event_count, a.first_at, a.last_at) is distinct from (n.event_count, n.first_at, n.last_at)
  `.execute(trx);
  await sql`analyze crunch_activity_changes`.execute(trx);

  // The stored rows are found by the connection and day index, so each write joins the changes with
  // the connection's rows of the recomputed days, and is skipped when no change needs it.
  const counts = await sql<{ removed: number; changed: number }>`
    select count(*) filter (where is_removed)::int as removed, count(*) filter (where not is_new and not is_removed)::int as changed
    from crunch_activity_changes
  `.execute(trx);
  if ((counts.rows[0]?.removed ?? 0) > 0) {
    await sql`
      delete from activity_daily a
      using crunch_activity_changes c
      where c.is_removed and a.connection_id = ${connection} and ${dayFilter}
        and a.external_id = c.external_id and a.feature_key = c.feature_key and a.day = c.day
    `.execute(trx);
  }
  if ((counts.rows[0]?.changed ?? 0) > 0) {
    await sql`
      update activity_daily a
      set event_count = c.event_count, first_at = c.first_at, last_at = c.last_at
      from crunch_activity_changes c
      where not c.is_new and not c.is_removed and a.connection_id = ${connection} and ${dayFilter}
        and a.external_id = c.external_id and a.feature_key = c.feature_key and a.day = c.day
    `.execute(trx);
  }
  // Only keys the full join found missing are inserted, which keeps each key unique.
  await sql`
    insert into activity_daily (connection_id, organization_id, external_id, feature_key, day, event_count, first_at, last_at)
    select ${connection}, ${scope.organizationId}::uuid, c.external_id, c.feature_key, c.day, c.event_count, c.first_at, c.last_at
    from crunch_activity_changes c
    where c.is_new
  `.execute(trx);
  return firstDay ?? undefined;
}

/** Returns whether `activity_daily` contains any fact of the connection. */
async function hasActivityFacts(trx: Transaction<DB>, connectionId: string): Promise<boolean> {
  const result = await sql<{ has_facts: boolean }>`
    select exists (select 1 from activity_daily a where a.connection_id = ${connectionId}::uuid) as has_facts
  `.execute(trx);
  return result.rows[0]?.has_facts === true;
}

/**
 * Moves `changedSince` back to the previous crunch's `asOf` when that is earlier. Records synced
 * before then may hold events that lay in the future at that crunch and have passed since, such as
 * on-call shifts and overrides that started in between, and their days must be counted again.
 */
async function includePassedEvents(trx: Transaction<DB>, scope: CrunchScope, changedSince: Date): Promise<Date> {
  const previous = await sql<{ as_of: Date | string | null }>`
    select max(p.computed_at) as as_of from person_features p where p.connection_id = ${scope.connectionId}::uuid
  `.execute(trx);
  const previousAsOf = previous.rows[0]?.as_of ?? null;
  if (previousAsOf === null) return changedSince;
  const earliest = Math.min(changedSince.getTime(), new Date(previousAsOf).getTime(), scope.asOf.getTime());
  return new Date(earliest);
}

/** Inserts the facts of the days from `firstDay` on (all days when null) into an `activity_daily` without them. */
async function insertActivityFacts(trx: Transaction<DB>, scope: CrunchScope, firstDay: Date | null): Promise<void> {
  const events = featureEvents(scope, firstDay);
  if (events === null) return;
  // Grouping by the key makes each key unique, and no row of these days exists yet. A sort on the
  // day first groups the facts, rather than hashing, so they reach the (connection_id, day) index
  // in its order. At two million log entries that took about 1.5 s less of 12 s, and 230 MB of
  // memory instead of 400 MB. Person and feature sort in byte order ("C"), which is faster than the
  // database's collation and groups equal keys all the same.
  await sql`set local enable_hashagg = off`.execute(trx);
  await sql`
    insert into activity_daily (connection_id, organization_id, external_id, feature_key, day, event_count, first_at, last_at)
    select ${scope.connectionId}::uuid, ${scope.organizationId}::uuid, facts.external_id, facts.feature_key, facts.day, facts.event_count, facts.first_at, facts.last_at
    from (
      select events.person_id collate "C" as external_id, events.feature_key collate "C" as feature_key, (events.at at time zone 'UTC')::date as day,
        count(*)::int as event_count, min(events.at) as first_at, max(events.at) as last_at
      from (${events}) events
      group by 3, 1, 2
    ) facts
  `.execute(trx);
  await sql`reset enable_hashagg`.execute(trx);
  // Autovacuum has not seen these rows yet, and the rest of the crunch and the next one plan by them.
  await sql`analyze activity_daily`.execute(trx);
}

/**
 * Recomputes `person_features`: first and last use over the synced history, and exact counts of
 * events in the 30, 60 and 90 days before `asOf`, all from `activity_daily`. Only the first UTC day
 * of each window, which the window starts inside, is counted from the raw records. Like
 * `recomputeActivityDaily`, it writes only the rows that changed.
 */
export async function recomputePersonFeatures(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const window30 = countWindow(scope.asOf, 30);
  const window60 = countWindow(scope.asOf, 60);
  const window90 = countWindow(scope.asOf, 90);
  const windows = [window30, window60, window90];
  const connection = sql`${scope.connectionId}::uuid`;

  await sql`
    create temporary table crunch_person_features (
      external_id text not null, feature_key text not null,
      first_used_at timestamptz not null, last_used_at timestamptz not null,
      count_30d integer not null, count_60d integer not null, count_90d integer not null
    ) on commit drop
  `.execute(trx);
  const edgeEvents = featureEventsIn(scope, windows.map((window) => ({ since: window.start, until: window.nextDay })), PAGERDUTY_FEATURES) ?? NO_EVENTS;
  await sql`
    insert into crunch_person_features (external_id, feature_key, first_used_at, last_used_at, count_30d, count_60d, count_90d)
    with history as (
      select
        d.external_id, d.feature_key, min(d.first_at) as first_used_at, max(d.last_at) as last_used_at,
        coalesce(sum(d.event_count) filter (where d.day >= ${window30.nextDayText}::date), 0) as whole_days_30d,
        coalesce(sum(d.event_count) filter (where d.day >= ${window60.nextDayText}::date), 0) as whole_days_60d,
        coalesce(sum(d.event_count) filter (where d.day >= ${window90.nextDayText}::date), 0) as whole_days_90d
      from activity_daily d
      where d.connection_id = ${connection}
      group by d.external_id, d.feature_key
    ),
    edges as (
      select
        events.person_id, events.feature_key,
        count(*) filter (where events.at >= ${window30.start}::timestamptz and events.at < ${window30.nextDay}::timestamptz) as edge_30d,
        count(*) filter (where events.at >= ${window60.start}::timestamptz and events.at < ${window60.nextDay}::timestamptz) as edge_60d,
        count(*) filter (where events.at >= ${window90.start}::timestamptz and events.at < ${window90.nextDay}::timestamptz) as edge_90d
      from (${edgeEvents}) events
      group by events.person_id, events.feature_key
    )
    select
      history.external_id, history.feature_key, history.first_used_at, history.last_used_at,
      (history.whole_days_30d + coalesce(edges.edge_30d, 0))::int,
      (history.whole_days_60d + coalesce(edges.edge_60d, 0))::int,
      (history.whole_days_90d + coalesce(edges.edge_90d, 0))::int
    from history
    left join edges on edges.person_id = history.external_id and edges.feature_key = history.feature_key
  `.execute(trx);
  await insertSubscriptionUse(trx, scope);
  await insertEscalationPolicyMembership(trx, scope);
  await sql`analyze crunch_person_features`.execute(trx);

  await sql`
    delete from person_features p
    where p.connection_id = ${connection}
      and not exists (select 1 from crunch_person_features n where n.external_id = p.external_id and n.feature_key = p.feature_key)
  `.execute(trx);
  await sql`
    update person_features p
    set first_used_at = n.first_used_at, last_used_at = n.last_used_at,
        count_30d = n.count_30d, count_60d = n.count_60d, count_90d = n.count_90d, computed_at = ${scope.asOf}::timestamptz
    from crunch_person_features n
    where p.connection_id = ${connection} and p.external_id = n.external_id and p.feature_key = n.feature_key
  `.execute(trx);
  await sql`
    insert into person_features (
      connection_id, organization_id, external_id, feature_key,
      first_used_at, last_used_at, count_30d, count_60d, count_90d, computed_at
    )
    select
      ${connection}, ${scope.organizationId}::uuid, n.external_id, n.feature_key,
      n.first_used_at, n.last_used_at, n.count_30d, n.count_60d, n.count_90d, ${scope.asOf}::timestamptz
    from crunch_person_features n
    where not exists (
      select 1 from person_features p
      where p.connection_id = ${connection} and p.external_id = n.external_id and p.feature_key = n.feature_key
    )
    order by n.external_id, n.feature_key
  `.execute(trx);
}

/** Computes a counting window: its start, and the next UTC midnight, from which whole days count. */
function countWindow(asOf: Date, days: number): { start: Date; nextDay: Date; nextDayText: string } {
  const start = daysBefore(asOf, days);
  const nextDay = new Date(startOfUtcDay(start).getTime() + DAY_MS);
  return { start, nextDay, nextDayText: nextDay.toISOString().slice(0, 10) };
}

/**
 * Adds the use of subscription features to `crunch_person_features`. A subscription has no instant
 * of its own, so it is used from the first sync that read it to the latest (capped at `asOf`), and
 * it counts in each window that the latest sync to read it falls in. A user subscriber counts for
 * that person, and a team subscriber for each current member of the team, because every member
 * receives the team's status updates. A person counts each business service and each incident
 * once, however many of their subscriptions reach it, so following a business service and one of
 * its incidents counts twice. Subscription features have no event sources, so they add no row
 * that the events already wrote.
 *
 * NOTE: team membership is synced as it is now, without history, so a member counts from the team
 * subscription's first sync even when they joined the team later.
 */
async function insertSubscriptionUse(trx: Transaction<DB>, scope: CrunchScope, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): Promise<void> {
  const featureKeys = collectSources(features).notificationSubscription;
  if (featureKeys.length === 0) return;
  rejectMixedSources(features, featureKeys, 'notification_subscription');
  const asOf = sql`${scope.asOf}::timestamptz`;
  const connection = sql`${scope.connectionId}::uuid`;

  await sql`
    insert into crunch_person_features (external_id, feature_key, first_used_at, last_used_at, count_30d, count_60d, count_90d)
    with
    reached as (
      select s.subscriber_id as person_id, s.subscribable_type, s.subscribable_id, s.first_seen_at, s.synced_at
      from pd_notification_subscriptions s
      where s.connection_id = ${connection} and s.subscriber_type = 'user' and s.first_seen_at <= ${asOf}
      union all
      select m.user_id, s.subscribable_type, s.subscribable_id, s.first_seen_at, s.synced_at
      from pd_notification_subscriptions s
      join pd_team_members m on m.connection_id = s.connection_id and m.team_id = s.subscriber_id
      where s.connection_id = ${connection} and s.subscriber_type = 'team' and s.first_seen_at <= ${asOf}
    ),
    per_subscribable as (
      select person_id, min(first_seen_at) as first_seen_at, max(synced_at) as synced_at
      from reached
      group by person_id, subscribable_type, subscribable_id
    )
    select
      p.person_id, m.feature_key, min(p.first_seen_at), max(least(p.synced_at, ${asOf})),
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 30)}::timestamptz))::int,
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 60)}::timestamptz))::int,
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 90)}::timestamptz))::int
    from per_subscribable p
    cross join (values ${sql.join(featureKeys.map((key) => sql`(${key}::text)`))}) as m(feature_key)
    group by p.person_id, m.feature_key
  `.execute(trx);
}

/**
 * Adds the use of escalation policy membership features to `crunch_person_features`. A person is on
 * a policy as a user target of one of its rules, or as a member of a layer of a schedule that a rule
 * targets, which is the definition the coverage in `people` uses. Membership has no instant of its
 * own, so each policy counts once in every window that the latest sync showing the membership falls
 * in, and first and last use are that sync (capped at `asOf`).
 *
 * A membership was last shown by the oldest of the records it rests on: the policy's targets, the
 * schedule's layer members, and for a deleted person the person's last read. So a deleted person
 * or a deleted policy counts only up to the last sync that read it. The targets of a deleted policy
 * come from the policy as last read, because the sync that finds it deleted drops its target rows.
 *
 * NOTE: the synced tables keep only the latest read of a policy or schedule, so first use is the
 * latest sync that showed the membership, not the first.
 */
async function insertEscalationPolicyMembership(trx: Transaction<DB>, scope: CrunchScope, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): Promise<void> {
  const featureKeys = collectSources(features).escalationPolicyMembership;
  if (featureKeys.length === 0) return;
  rejectMixedSources(features, featureKeys, 'escalation_policy_membership');
  const asOf = sql`${scope.asOf}::timestamptz`;
  const connection = sql`${scope.connectionId}::uuid`;

  await sql`
    insert into crunch_person_features (external_id, feature_key, first_used_at, last_used_at, count_30d, count_60d, count_90d)
    with
    targets as (
      select t.escalation_policy_id, t.target_type, t.target_id, least(t.synced_at, p.synced_at) as synced_at
      from pd_escalation_targets t
      join pd_escalation_policies p on p.connection_id = t.connection_id and p.id = t.escalation_policy_id
      where t.connection_id = ${connection}
      union
      select p.id, target ->> 'type', target ->> 'id', p.synced_at
      from pd_escalation_policies p
      cross join lateral jsonb_array_elements(case when jsonb_typeof(p.raw -> 'escalation_rules') = 'array' then p.raw -> 'escalation_rules' else '[]'::jsonb end) rule
      cross join lateral jsonb_array_elements(case when jsonb_typeof(rule -> 'targets') = 'array' then rule -> 'targets' else '[]'::jsonb end) target
      where p.connection_id = ${connection} and p.deleted_at is not null and target ->> 'id' is not null
    ),
    members as (
      select t.target_id as person_id, t.escalation_policy_id, t.synced_at
      from targets t
      where t.target_type in ('user', 'user_reference')
      union all
      select lu.user_id, t.escalation_policy_id, least(t.synced_at, lu.synced_at)
      from targets t
      join pd_schedule_layer_users lu on lu.connection_id = ${connection} and lu.schedule_id = t.target_id
      where t.target_type in ('schedule', 'schedule_reference')
    ),
    per_policy as (
      select m.person_id, max(least(m.synced_at, case when u.deleted_at is not null then u.synced_at end)) as synced_at
      from members m
      left join pd_users u on u.connection_id = ${connection} and u.id = m.person_id
      group by m.person_id, m.escalation_policy_id
    )
    select
      p.person_id, f.feature_key, min(least(p.synced_at, ${asOf})), max(least(p.synced_at, ${asOf})),
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 30)}::timestamptz))::int,
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 60)}::timestamptz))::int,
      (count(*) filter (where p.synced_at >= ${daysBefore(scope.asOf, 90)}::timestamptz))::int
    from per_policy p
    cross join (values ${sql.join(featureKeys.map((key) => sql`(${key}::text)`))}) as f(feature_key)
    group by p.person_id, f.feature_key
  `.execute(trx);
}

/** Rejects a feature that mixes a standing-state source with other sources, because its use would be written twice. */
function rejectMixedSources(features: readonly FeatureDefinition[], featureKeys: readonly string[], kind: 'notification_subscription' | 'escalation_policy_membership'): void {
  const mixed = features.find((feature) => featureKeys.includes(feature.key) && feature.events.some((source) => source.kind !== kind));
  if (mixed !== undefined) throw new Error(`Feature ${mixed.key} mixes ${kind} with other event sources; give ${kind} a feature of its own.`);
}

/** A half-open range of instants `[since, until)`. A null bound is open. */
export interface EventRange {
  since: Date | null;
  until: Date | null;
}

/** A query of no events, for a catalogue without event sources. */
const NO_EVENTS = sql`select null::text as person_id, null::text as feature_key, null::timestamptz as at where false`;

/**
 * Builds one query of every event `(person_id, feature_key, at)` of the connection created in
 * `[since, asOf]` (or up to `asOf` when `since` is null), one branch per kind of event source.
 * Returns null when the catalogue has no event sources.
 */
export function featureEvents(scope: CrunchScope, since: Date | null, features: readonly FeatureDefinition[] = PAGERDUTY_FEATURES): RawBuilder<unknown> | null {
  return featureEventsIn(scope, [{ since, until: null }], features);
}

/**
 * Builds the query of `featureEvents` for events in any of `ranges`, each also capped at `asOf`.
 * Log entries are read in one pass: each entry yields the features of its type and of its channel.
 */
function featureEventsIn(scope: CrunchScope, ranges: readonly EventRange[], features: readonly FeatureDefinition[]): RawBuilder<unknown> | null {
  const sources = collectSources(features);
  const branches: RawBuilder<unknown>[] = [];
  const connection = sql`${scope.connectionId}::uuid`;
  const window = (column: RawBuilder<unknown>) => {
    const inRange = ranges.map((range) => {
      const bounds = [sql`${column} <= ${scope.asOf}::timestamptz`];
      if (range.since !== null) bounds.push(sql`${column} >= ${range.since}::timestamptz`);
      if (range.until !== null) bounds.push(sql`${column} < ${range.until}::timestamptz`);
      return sql`(${sql.join(bounds, sql` and `)})`;
    });
    return sql`(${sql.join(inRange, sql` or `)})`;
  };

  if (sources.logEntryTypes.length > 0 || sources.logEntryChannels.length > 0) {
    const matches = [
      ...sources.logEntryTypes.map(([type]) => sql`e.type = ${type}::text`),
      ...sources.logEntryChannels.map(([channel]) => sql`e.channel_type = ${channel}::text`),
    ];
    // A lateral VALUES row per feature an entry can show, rather than unnest of an array, because
    // PostgreSQL 15 estimates ten rows for any unnest and then sorts instead of hashing.
    const featureRows = [...featureCases(sql`e.type`, sources.logEntryTypes), ...featureCases(sql`e.channel_type`, sources.logEntryChannels)];
    branches.push(sql`
      select e.agent_id as person_id, f.feature_key, e.created_at as at
      from pd_log_entries e
      cross join lateral (values ${sql.join(featureRows.map((row) => sql`(${row})`))}) as f(feature_key)
      where e.connection_id = ${connection} and e.agent_type = 'user_reference' and e.agent_id is not null
        and (${sql.join(matches, sql` or `)}) and f.feature_key is not null and ${window(sql.ref('e.created_at'))}`);
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
  notificationSubscription: string[];
  escalationPolicyMembership: string[];
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
    notificationSubscription: [],
    escalationPolicyMembership: [],
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
        case 'notification_subscription':
          collected.notificationSubscription.push(feature.key);
          break;
        case 'escalation_policy_membership':
          collected.escalationPolicyMembership.push(feature.key);
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

/**
 * Renders one `case column when match then feature_key ... end` per feature a value of `column`
 * can show. The n-th expression is the n-th feature of the value, or null when it has fewer.
 */
function featureCases(column: RawBuilder<unknown>, entries: Array<[string, string]>): RawBuilder<unknown>[] {
  const keysByMatch = new Map<string, string[]>();
  for (const [match, featureKey] of entries) keysByMatch.set(match, [...(keysByMatch.get(match) ?? []), featureKey]);
  const maxKeys = Math.max(0, ...[...keysByMatch.values()].map((keys) => keys.length));

  const cases: RawBuilder<unknown>[] = [];
  for (let position = 0; position < maxKeys; position += 1) {
    const arms = [...keysByMatch].flatMap(([match, keys]) => {
      const key = keys[position];
      return key === undefined ? [] : [sql`when ${match}::text then ${key}::text`];
    });
    cases.push(sql`(case ${column} ${sql.join(arms, sql` `)} end)`);
  }
  return cases;
}

/** Renders `(match, feature_key), ...` as bound text parameters for a VALUES list. */
function pairs(entries: Array<[string, string]>): RawBuilder<unknown> {
  return sql.join(entries.map(([match, featureKey]) => sql`(${match}::text, ${featureKey}::text)`));
}

function startOfUtcDay(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
}
