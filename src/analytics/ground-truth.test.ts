import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import type { DB } from '../db/schema.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { startSimulator, type FeatureSignals, type GroundTruth, type RunningSimulator } from '../../simulator/index.ts';
import { INCIDENT_SUBSCRIBERS_RECENT_DAYS, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from '../sync/streams/subscriptions.ts';
import { crunchConnection } from './crunch.ts';
import { PAGERDUTY_FEATURES } from './pagerduty-features.ts';
import { createTenant } from './testing.ts';

const NOW = new Date('2026-05-20T09:30:00Z');
const DAY_MS = 86_400_000;
/** Log entries are read a week at a time, so no window reaches PagerDuty's 10,000 offset cap. */
const WINDOW_DAYS = 7;
const HISTORY_DAYS = 100;
/** The features that count stakeholder subscriptions. */
const SUBSCRIPTION_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => feature.events.some((source) => source.kind === 'notification_subscription')).map((feature) => feature.key);
/** The features that count the escalation policies a person is on. */
const POLICY_MEMBER_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => feature.events.some((source) => source.kind === 'escalation_policy_membership')).map((feature) => feature.key);

const reference = z.object({ id: z.string(), type: z.string() });
const usersPage = z.object({
  users: z.array(z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.string(), invitation_sent: z.boolean().optional() })),
  more: z.boolean(),
});
const licensesBody = z.object({
  licenses: z.array(
    z.object({ id: z.string(), name: z.string(), role_group: z.string(), current_value: z.number(), allocations_available: z.number().nullable() }),
  ),
});
const allocationsPage = z.object({
  license_allocations: z.array(z.object({ user: reference, license: z.object({ id: z.string() }) })),
  more: z.boolean(),
});
const logEntriesPage = z.object({
  log_entries: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      created_at: z.string(),
      agent: reference.nullable().optional(),
      channel: z.object({ type: z.string() }).nullable().optional(),
      incident: reference.nullable().optional(),
      user: reference.nullable().optional(),
    }),
  ),
  more: z.boolean(),
});

const teamsPage = z.object({ teams: z.array(z.object({ id: z.string() })), more: z.boolean() });
const membersPage = z.object({ members: z.array(z.object({ user: reference })), more: z.boolean() });
const businessServicesPage = z.object({ business_services: z.array(z.object({ id: z.string() })), more: z.boolean() });
const subscribersPage = z.object({ subscribers: z.array(z.object({ subscriber_id: z.string(), subscriber_type: z.enum(['user', 'team']) })), more: z.boolean() });
const escalationPoliciesPage = z.object({
  escalation_policies: z.array(z.object({ id: z.string(), name: z.string(), escalation_rules: z.array(z.object({ id: z.string(), targets: z.array(reference) })) })),
  more: z.boolean(),
});
const schedulesPage = z.object({
  schedules: z.array(z.object({ id: z.string(), name: z.string(), schedule_layers: z.array(z.object({ id: z.string(), users: z.array(z.object({ user: reference })) })) })),
  more: z.boolean(),
});
const incidentsPage = z.object({
  incidents: z.array(z.object({ id: z.string(), status: z.string(), created_at: z.string(), last_status_change_at: z.string() })),
  more: z.boolean(),
});

/**
 * Reads the simulator's REST API with its account API key, as a sync of users, licenses, log
 * entries, team members and subscriptions would.
 */
async function loadSimulatedAccount(simulator: RunningSimulator, db: Kysely<DB>, connectionId: string): Promise<void> {
  const get = async <T>(schema: z.ZodType<T>, path: string, query: Record<string, string>): Promise<T> => {
    const url = new URL(`${simulator.apiUrl}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const response = await fetch(url, { headers: { Authorization: `Token token=${simulator.apiKey}`, Accept: 'application/vnd.pagerduty+json;version=2' } });
    if (!response.ok) throw new Error(`GET ${url.pathname} failed with HTTP ${response.status}: ${await response.text()}`);
    return schema.parse(await response.json());
  };
  const getAll = async <T>(schema: z.ZodType<{ more: boolean } & Record<string, unknown>>, path: string, key: string, query: Record<string, string> = {}): Promise<T[]> => {
    const items: T[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await get(schema, path, { ...query, limit: '100', offset: String(offset) });
      items.push(...(page[key] as T[]));
      if (!page.more) return items;
    }
  };

  for (let offset = 0; ; offset += 100) {
    const page = await get(usersPage, '/users', { limit: '100', offset: String(offset) });
    if (page.users.length > 0) {
      await db
        .insertInto('pd_users')
        .values(
          page.users.map((user) => ({
            connection_id: connectionId,
            id: user.id,
            name: user.name,
            email: user.email,
            role: user.role,
            invitation_sent: user.invitation_sent ?? false,
            raw: JSON.stringify(user),
          })),
        )
        .execute();
    }
    if (!page.more) break;
  }

  const { licenses } = await get(licensesBody, '/licenses', {});
  await db
    .insertInto('pd_licenses')
    .values(
      licenses.map((license) => ({
        connection_id: connectionId,
        id: license.id,
        name: license.name,
        role_group: license.role_group,
        current_value: license.current_value,
        allocations_available: license.allocations_available,
        valid_roles: '[]',
        raw: JSON.stringify(license),
      })),
    )
    .execute();

  for (let offset = 0; ; offset += 100) {
    const page = await get(allocationsPage, '/license_allocations', { limit: '100', offset: String(offset) });
    if (page.license_allocations.length > 0) {
      await db
        .insertInto('pd_license_allocations')
        .values(page.license_allocations.map((allocation) => ({ connection_id: connectionId, user_id: allocation.user.id, license_id: allocation.license.id })))
        .execute();
    }
    if (!page.more) break;
  }

  // `until` is exclusive, so the last window ends just after NOW.
  const end = NOW.getTime() + 1;
  for (let windowEnd = end; windowEnd > end - HISTORY_DAYS * DAY_MS; windowEnd -= WINDOW_DAYS * DAY_MS) {
    const since = new Date(windowEnd - WINDOW_DAYS * DAY_MS).toISOString();
    const until = new Date(windowEnd).toISOString();
    for (let offset = 0; ; offset += 100) {
      const page = await get(logEntriesPage, '/log_entries', { since, until, limit: '100', offset: String(offset) });
      if (page.log_entries.length > 0) {
        await db
          .insertInto('pd_log_entries')
          .values(
            page.log_entries.map((entry) => ({
              connection_id: connectionId,
              id: entry.id,
              type: entry.type,
              created_at: entry.created_at,
              agent_type: entry.agent?.type ?? null,
              agent_id: entry.agent?.id ?? null,
              channel_type: entry.channel?.type ?? null,
              incident_id: entry.incident?.id ?? null,
              user_id: entry.user?.id ?? null,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      if (!page.more) break;
    }
  }

  await loadSubscriptions(db, connectionId, getAll);
  await loadEscalationPolicies(db, connectionId, getAll);
}

type GetAll = <T>(schema: z.ZodType<{ more: boolean } & Record<string, unknown>>, path: string, key: string, query?: Record<string, string>) => Promise<T[]>;

/**
 * Loads team members and the subscriptions one sync at NOW reads. That is every business service's,
 * and those of the incidents open at NOW or whose status changed recently, newest change first, up
 * to the number a sync reads in one run.
 */
async function loadSubscriptions(db: Kysely<DB>, connectionId: string, getAll: GetAll): Promise<void> {
  for (const team of await getAll<{ id: string }>(teamsPage, '/teams', 'teams')) {
    const members = await getAll<{ user: { id: string } }>(membersPage, `/teams/${team.id}/members`, 'members');
    if (members.length === 0) continue;
    await db
      .insertInto('pd_team_members')
      .values(members.map((member) => ({ connection_id: connectionId, team_id: team.id, user_id: member.user.id, role: null })))
      .execute();
  }

  const subscribables: { type: 'business_service' | 'incident'; id: string; path: string }[] = [];
  for (const service of await getAll<{ id: string }>(businessServicesPage, '/business_services', 'business_services')) {
    subscribables.push({ type: 'business_service', id: service.id, path: `/business_services/${service.id}/subscribers` });
  }
  const historyStartMs = NOW.getTime() - HISTORY_DAYS * DAY_MS;
  const recentSinceMs = NOW.getTime() - INCIDENT_SUBSCRIBERS_RECENT_DAYS * DAY_MS;
  const incidents = (await getAll<z.infer<typeof incidentsPage>['incidents'][number]>(incidentsPage, '/incidents', 'incidents', { date_range: 'all' }))
    .filter((incident) => Date.parse(incident.created_at) >= historyStartMs && Date.parse(incident.created_at) < NOW.getTime())
    .filter((incident) => incident.status !== 'resolved' || Date.parse(incident.last_status_change_at) >= recentSinceMs)
    .sort((left, right) => Date.parse(right.last_status_change_at) - Date.parse(left.last_status_change_at) || compareText(right.id, left.id))
    .slice(0, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);
  for (const incident of incidents) subscribables.push({ type: 'incident', id: incident.id, path: `/incidents/${incident.id}/status_updates/subscribers` });

  for (const subscribable of subscribables) {
    const subscribers = await getAll<z.infer<typeof subscribersPage>['subscribers'][number]>(subscribersPage, subscribable.path, 'subscribers');
    if (subscribers.length === 0) continue;
    await db
      .insertInto('pd_notification_subscriptions')
      .values(
        subscribers.map((subscriber) => ({
          connection_id: connectionId,
          subscribable_type: subscribable.type,
          subscribable_id: subscribable.id,
          subscriber_type: subscriber.subscriber_type,
          subscriber_id: subscriber.subscriber_id,
          first_seen_at: NOW,
          synced_at: NOW,
          deleted_at: null,
        })),
      )
      .execute();
  }
}

/** Loads every escalation policy with its rule targets, and every schedule with its layer members, as one sync at NOW reads them. */
async function loadEscalationPolicies(db: Kysely<DB>, connectionId: string, getAll: GetAll): Promise<void> {
  const policies = await getAll<z.infer<typeof escalationPoliciesPage>['escalation_policies'][number]>(escalationPoliciesPage, '/escalation_policies', 'escalation_policies');
  if (policies.length === 0) throw new Error('The simulator served no escalation policies; pick another seed.');
  await db
    .insertInto('pd_escalation_policies')
    .values(policies.map((policy) => ({ connection_id: connectionId, id: policy.id, name: policy.name, description: null, num_loops: null, raw: JSON.stringify(policy), synced_at: NOW, deleted_at: null })))
    .execute();
  const targets = policies.flatMap((policy) =>
    policy.escalation_rules.flatMap((rule, position) =>
      rule.targets.map((target) => ({
        connection_id: connectionId,
        escalation_policy_id: policy.id,
        rule_position: position,
        rule_id: rule.id,
        target_type: target.type,
        target_id: target.id,
        escalation_delay_in_minutes: null,
        synced_at: NOW,
      })),
    ),
  );
  await db.insertInto('pd_escalation_targets').values(targets).onConflict((oc) => oc.doNothing()).execute();

  const schedules = await getAll<z.infer<typeof schedulesPage>['schedules'][number]>(schedulesPage, '/schedules', 'schedules', { 'include[]': 'schedule_layers' });
  if (schedules.length === 0) throw new Error('The simulator served no schedules; pick another seed.');
  await db
    .insertInto('pd_schedules')
    .values(schedules.map((schedule) => ({ connection_id: connectionId, id: schedule.id, name: schedule.name, description: null, time_zone: null, raw: JSON.stringify(schedule), synced_at: NOW, deleted_at: null })))
    .execute();
  const layerUsers = schedules.flatMap((schedule) =>
    schedule.schedule_layers.flatMap((layer) =>
      layer.users.map((entry, position) => ({ connection_id: connectionId, schedule_id: schedule.id, layer_id: layer.id, position, user_id: entry.user.id, synced_at: NOW })),
    ),
  );
  await db.insertInto('pd_schedule_layer_users').values(layerUsers).execute();
}

/** Maps only subscriptions and escalation policy membership to features, so the simulator's use truth contains their counts alone. */
function standingStateSignals(): FeatureSignals {
  return {
    logEntryTypes: {},
    logEntryChannels: {},
    notificationTypes: {},
    delegationTypes: {},
    oncallShift: [],
    scheduleOverride: [],
    signIn: [],
    auditRecord: [],
    subscription: SUBSCRIPTION_FEATURE_KEYS,
    escalationPolicyMember: POLICY_MEMBER_FEATURE_KEYS,
    activity: {},
  };
}

/** Orders ids by code unit on both sides, so the database's collation plays no part. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

describe.each(testDatabaseTargets())('crunch against simulator on $name', ({ open }) => {
  let database: Database;
  let simulator: RunningSimulator;
  let organizationId: string;
  let truth: GroundTruth;

  beforeAll(async () => {
    // One request per incident read for subscribers goes past the default rate limit.
    simulator = await startSimulator({ seed: 7, people: 60, now: NOW, historyDays: HISTORY_DAYS, port: 0, euPort: 0, rateLimitPerMinute: 60_000 });
    database = await open();
    await migrate(database);
    const tenant = await createTenant(database.db, 'Simulated');
    organizationId = tenant.organizationId;
    await loadSimulatedAccount(simulator, database.db, tenant.connectionId);
    await crunchConnection(database.db, tenant.connectionId, NOW);
    truth = simulator.groundTruth(NOW);
  });

  afterAll(async () => {
    await database?.close();
    await simulator?.close();
  });

  it('matches every person', async () => {
    const people = await database.db
      .selectFrom('people')
      .select(['external_id', 'name', 'email', 'role', 'license_id', 'last_seen_at', 'last_seen_signal'])
      .where('organization_id', '=', organizationId)
      .orderBy('external_id')
      .execute();
    const actual = people.map((person) => ({
      id: person.external_id,
      name: person.name,
      email: person.email,
      role: person.role,
      licenseId: person.license_id,
      lastSeenAt: person.last_seen_at?.toISOString() ?? null,
      lastSeenSignal: person.last_seen_signal,
    }));
    const expected = [...truth.people].sort((left, right) => compareText(left.id, right.id));
    expect(actual.sort((left, right) => compareText(left.id, right.id))).toEqual(expected);
  });

  it('covers the interesting cases', () => {
    const seenAt = truth.people.map((person) => (person.lastSeenAt === null ? null : NOW.getTime() - Date.parse(person.lastSeenAt)));
    expect(seenAt.filter((age) => age === null).length).toBeGreaterThan(0);
    expect(seenAt.filter((age) => age !== null && age > 30 * DAY_MS).length).toBeGreaterThan(0);
    expect(seenAt.filter((age) => age !== null && age <= 30 * DAY_MS).length).toBeGreaterThan(0);
  });

  it('matches per-feature counts', async () => {
    const featuresOfType = new Map<string, string[]>();
    const featuresOfChannel = new Map<string, string[]>();
    for (const feature of PAGERDUTY_FEATURES) {
      for (const source of feature.events) {
        if (source.kind === 'log_entry_type') for (const type of source.types) featuresOfType.set(type, [...(featuresOfType.get(type) ?? []), feature.key]);
        if (source.kind === 'log_entry_channel') for (const channel of source.channels) featuresOfChannel.set(channel, [...(featuresOfChannel.get(channel) ?? []), feature.key]);
      }
    }

    const expected = new Map<string, { count30d: number; count60d: number; count90d: number }>();
    const actions = simulator.actions(new Date(NOW.getTime() - 90 * DAY_MS), new Date(NOW.getTime() + 1));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      const age = NOW.getTime() - Date.parse(action.at);
      const keys = [...(featuresOfType.get(action.logEntryType) ?? []), ...(featuresOfChannel.get(action.channel) ?? [])];
      for (const key of keys) {
        const counts = expected.get(`${action.userId}/${key}`) ?? { count30d: 0, count60d: 0, count90d: 0 };
        if (age <= 30 * DAY_MS) counts.count30d += 1;
        if (age <= 60 * DAY_MS) counts.count60d += 1;
        counts.count90d += 1;
        expected.set(`${action.userId}/${key}`, counts);
      }
    }

    // Subscriptions count once per business service or incident that reaches the person, directly or
    // through a team, and membership once per escalation policy the person is on.
    const standingStateUse = simulator.usageTruth({
      asOf: NOW,
      historyDays: HISTORY_DAYS,
      signals: standingStateSignals(),
      incidentSubscriberReads: { recentDays: INCIDENT_SUBSCRIBERS_RECENT_DAYS, maxIncidents: MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN },
      unusedDays: 30,
      exemptEmails: [],
      monthlyPrices: null,
    }).features;
    const businessServiceUse = simulator.usageTruth({
      asOf: NOW,
      historyDays: HISTORY_DAYS,
      signals: standingStateSignals(),
      incidentSubscriberReads: { recentDays: INCIDENT_SUBSCRIBERS_RECENT_DAYS, maxIncidents: 0 },
      unusedDays: 30,
      exemptEmails: [],
      monthlyPrices: null,
    }).features;
    expect(standingStateUse.length).toBeGreaterThan(0);
    expect(standingStateUse, 'incident subscriptions add to the counts').not.toEqual(businessServiceUse);
    const membershipUse = standingStateUse.filter((use) => POLICY_MEMBER_FEATURE_KEYS.includes(use.featureKey));
    expect(membershipUse.length, 'people on escalation policies').toBeGreaterThan(0);
    expect(membershipUse.some((use) => use.count30d > 1), 'a person on several escalation policies').toBe(true);
    for (const use of standingStateUse) expected.set(`${use.personId}/${use.featureKey}`, { count30d: use.count30d, count60d: use.count60d, count90d: use.count90d });

    const rows = await database.db
      .selectFrom('person_features')
      .select(['external_id', 'feature_key', 'count_30d', 'count_60d', 'count_90d'])
      .where('organization_id', '=', organizationId)
      .where('count_90d', '>', 0)
      .execute();
    const actual = new Map(rows.map((row) => [`${row.external_id}/${row.feature_key}`, { count30d: row.count_30d, count60d: row.count_60d, count90d: row.count_90d }]));
    expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
  });

  it('matches seats per license', async () => {
    const seats = await database.db
      .selectFrom('seat_summaries')
      .select(['license_id', 'license_name', 'role_group', 'paid', 'allocated', 'active_30d', 'active_90d', 'never_active'])
      .where('organization_id', '=', organizationId)
      .orderBy('license_id')
      .execute();
    const actual = seats.map((seat) => ({
      licenseId: seat.license_id,
      licenseName: seat.license_name,
      roleGroup: seat.role_group,
      paid: seat.paid,
      allocated: seat.allocated,
      active30d: seat.active_30d,
      active90d: seat.active_90d,
      neverActive: seat.never_active,
    }));
    const expected = [...truth.seats].sort((left, right) => compareText(left.licenseId, right.licenseId));
    expect(actual.sort((left, right) => compareText(left.licenseId, right.licenseId))).toEqual(expected);
  });
});
