import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { runSync } from '../sync/run-sync.ts';
import { INCIDENT_SUBSCRIBERS_RECENT_DAYS, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from '../sync/streams/subscriptions.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault, type TestConnection } from '../sync/testing.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { startSimulator, type FeatureSignals, type GroundTruth, type RunningSimulator, type UsageTruth, type UsageTruthOptions } from '../../simulator/index.ts';
import { incidentSubscribers } from '../../simulator/incident-subscribers.ts';
import { listIncidentsReadForSubscribers } from '../../simulator/usage-truth.ts';
import { crunchConnection } from './crunch.ts';
import { PAGERDUTY_FEATURES, PAGERDUTY_PROVIDER } from './pagerduty-features.ts';
import { activitySignalOf } from './people.ts';

// Both the United States (2026-03-08) and Europe (2026-03-29) change clocks inside the synced 90 days.
const NOW = new Date('2026-05-20T09:30:00Z');
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const HISTORY_DAYS = 90;
const UNUSED_DAYS = 60;
/** A sync of every stream takes about half a minute on an idle machine and several on a loaded one. */
const SYNC_TIMEOUT_MS = 600_000;
/** Monthly prices per seat in cents, entered under PagerDuty's license names. */
const MONTHLY_PRICES = { 'Business (Full User)': 4_100, 'Business (Stakeholder)': 1_500 };
/** The incidents a sync reads the subscribers of, by the sync's own bound. */
const INCIDENT_SUBSCRIBER_READS = { recentDays: INCIDENT_SUBSCRIBERS_RECENT_DAYS, maxIncidents: MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN };

/** Translates the product's feature catalogue into the simulator's terms, so the simulator can count uses itself. */
function featureSignals(): FeatureSignals {
  const signals: FeatureSignals = {
    logEntryTypes: {},
    logEntryChannels: {},
    notificationTypes: {},
    delegationTypes: {},
    oncallShift: [],
    scheduleOverride: [],
    signIn: [],
    auditRecord: [],
    subscription: [],
    escalationPolicyMember: [],
    activity: {},
  };
  const append = (map: Record<string, string[]>, match: string, key: string) => {
    map[match] = [...(map[match] ?? []), key];
  };
  for (const feature of PAGERDUTY_FEATURES) {
    for (const source of feature.events) {
      if (source.kind === 'log_entry_type') for (const type of source.types) append(signals.logEntryTypes, type, feature.key);
      if (source.kind === 'log_entry_channel') for (const channel of source.channels) append(signals.logEntryChannels, channel, feature.key);
      if (source.kind === 'notification') append(signals.notificationTypes, source.type, feature.key);
      if (source.kind === 'oauth_delegation') append(signals.delegationTypes, source.delegationType, feature.key);
      if (source.kind === 'oncall_shift') signals.oncallShift.push(feature.key);
      if (source.kind === 'schedule_override') signals.scheduleOverride.push(feature.key);
      if (source.kind === 'analytics_sign_in') signals.signIn.push(feature.key);
      if (source.kind === 'audit_record') signals.auditRecord.push(feature.key);
      if (source.kind === 'notification_subscription') signals.subscription.push(feature.key);
      if (source.kind === 'escalation_policy_membership') signals.escalationPolicyMember.push(feature.key);
    }
    const signal = activitySignalOf(feature);
    if (signal === 'incident_action') signals.activity[feature.key] = 'responder';
    else if (signal === 'on_call_shift') signals.activity[feature.key] = 'on_call';
    else if (signal === 'configuration_change') signals.activity[feature.key] = 'configuration';
    else if (signal !== null) signals.activity[feature.key] = 'other';
  }
  return signals;
}

/** Orders ids by code unit on both sides, so the database's collation plays no part. */
function byText<T>(key: (item: T) => string): (left: T, right: T) => number {
  return (left, right) => {
    const [a, b] = [key(left), key(right)];
    if (a === b) return 0;
    return a < b ? -1 : 1;
  };
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

describe.each(testDatabaseTargets())('usage against simulator truth on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;
  let connection: TestConnection;
  let truth: UsageTruth;
  let truthOptions: UsageTruthOptions;
  let seen: GroundTruth;
  let exemptEmail: string;

  beforeAll(async () => {
    // A rate limit far above PagerDuty's keeps the per-incident subscriber reads from pausing the sync.
    simulator = await startSimulator({ seed: 7, people: 60, now: NOW, historyDays: 100, plan: 'business', guardrailCases: true, port: 0, euPort: 0, rateLimitPerMinute: 600_000 });
    database = await open();
    await migrate(database);
    const vault = testVault();
    connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });

    const unexemptedOptions: UsageTruthOptions = {
      asOf: NOW,
      historyDays: HISTORY_DAYS,
      signals: featureSignals(),
      incidentSubscriberReads: INCIDENT_SUBSCRIBER_READS,
      unusedDays: UNUSED_DAYS,
      exemptEmails: [],
      monthlyPrices: MONTHLY_PRICES,
    };
    // Exempt the first person the rules would reclaim with nothing else in the way.
    const unexempted = simulator.usageTruth(unexemptedOptions);
    const plainReclaim = unexempted.recommendations.filter((recommendation) => recommendation.kind === 'reclaim_seat' && recommendation.guardrails.length === 0).sort(byText((item) => item.personId))[0];
    const exemptPerson = simulator.groundTruth(NOW).people.find((person) => person.id === plainReclaim?.personId);
    if (exemptPerson === undefined) throw new Error('The generated account has no reclaimable seat to exempt; pick another seed.');
    exemptEmail = exemptPerson.email.toLowerCase();
    truthOptions = { ...unexemptedOptions, exemptEmails: [exemptEmail] };
    truth = simulator.usageTruth(truthOptions);
    seen = simulator.groundTruth(NOW);

    const { db } = database;
    await db.insertInto('recommendation_settings').values({ organization_id: connection.organizationId, provider: PAGERDUTY_PROVIDER, unused_days: UNUSED_DAYS }).execute();
    await db.insertInto('recommendation_exemptions').values({ organization_id: connection.organizationId, provider: PAGERDUTY_PROVIDER, email: exemptEmail, reason: 'on leave' }).execute();
    const contract = await db
      .insertInto('contracts')
      .values({ organization_id: connection.organizationId, provider: PAGERDUTY_PROVIDER, currency: 'USD', billing_period: 'monthly' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('contract_lines')
      .values(Object.entries(MONTHLY_PRICES).map(([licenseName, price]) => ({ contract_id: contract.id, license_name: licenseName, price_per_seat_minor: price })))
      .execute();

    const syncRunId = await createQueuedRun(database, connection);
    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, crunch: crunchConnection }), { connectionId: connection.connectionId, syncRunId });
    if (outcome.status !== 'succeeded') throw new Error(`The sync ended ${outcome.status}: ${outcome.errorMessage ?? 'no message'}`);
  }, SYNC_TIMEOUT_MS);

  afterAll(async () => {
    await database?.close();
    await simulator?.close();
  });

  it('matches last seen per person', async () => {
    const people = await database.db
      .selectFrom('people')
      .select(['external_id', 'last_seen_at', 'last_seen_signal', 'license_id'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const actual = people.map((person) => ({ id: person.external_id, lastSeenAt: iso(person.last_seen_at), lastSeenSignal: person.last_seen_signal, licenseId: person.license_id }));
    const expected = seen.people.map((person) => ({ id: person.id, lastSeenAt: person.lastSeenAt, lastSeenSignal: person.lastSeenSignal, licenseId: person.licenseId }));
    expect(actual.sort(byText((person) => person.id))).toEqual(expected.sort(byText((person) => person.id)));
  });

  it('matches feature use per person', async () => {
    const rows = await database.db
      .selectFrom('person_features')
      .select(['external_id', 'feature_key', 'first_used_at', 'last_used_at', 'count_30d', 'count_60d', 'count_90d'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const actual = rows.map((row) => ({
      personId: row.external_id,
      featureKey: row.feature_key,
      firstUsedAt: iso(row.first_used_at),
      lastUsedAt: iso(row.last_used_at),
      count30d: row.count_30d,
      count60d: row.count_60d,
      count90d: row.count_90d,
    }));
    const key = byText((use: { personId: string; featureKey: string }) => `${use.personId}/${use.featureKey}`);
    expect(new Set(truth.features.map((use) => use.featureKey)).size).toBeGreaterThan(10);
    expect(actual.sort(key)).toEqual([...truth.features].sort(key));
  });

  it('matches seats per license', async () => {
    const seats = await database.db
      .selectFrom('seat_summaries')
      .select(['license_id', 'paid', 'allocated', 'active_30d', 'active_90d', 'never_active'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const actual = seats.map((seat) => ({ licenseId: seat.license_id, paid: seat.paid, allocated: seat.allocated, active30d: seat.active_30d, active90d: seat.active_90d, neverActive: seat.never_active }));
    const expected = seen.seats.map((seat) => ({ licenseId: seat.licenseId, paid: seat.paid, allocated: seat.allocated, active30d: seat.active30d, active90d: seat.active90d, neverActive: seat.neverActive }));
    expect(actual.sort(byText((seat) => seat.licenseId))).toEqual(expected.sort(byText((seat) => seat.licenseId)));
  });

  it('matches coverage per person', async () => {
    const people = await database.db
      .selectFrom('people')
      .select(['external_id', 'escalation_policy_ids', 'schedule_ids', 'upcoming_shift_count', 'is_permanent_on_call', 'open_incident_count'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const actual = people.map((person) => ({
      personId: person.external_id,
      escalationPolicyIds: [...(person.escalation_policy_ids as string[])].sort(),
      scheduleIds: [...(person.schedule_ids as string[])].sort(),
      upcomingShiftCount: person.upcoming_shift_count,
      isPermanentOnCall: person.is_permanent_on_call,
      openIncidentCount: person.open_incident_count,
    }));
    const expected = truth.coverage.map((cover) => ({
      personId: cover.personId,
      escalationPolicyIds: cover.escalationPolicyIds,
      scheduleIds: cover.scheduleIds,
      upcomingShiftCount: cover.upcomingShiftCount,
      isPermanentOnCall: cover.isPermanentOnCall,
      openIncidentCount: cover.openIncidentCount,
    }));
    expect(actual.sort(byText((cover) => cover.personId))).toEqual(expected.sort(byText((cover) => cover.personId)));
  });

  it('matches every recommendation', async () => {
    const rows = await database.db
      .selectFrom('recommendations')
      .select(['kind', 'external_id', 'status', 'yearly_saving_minor', sql<string>`effective_date::text`.as('effective_date'), 'guardrails'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const actual = rows.map((row) => ({
      kind: row.kind,
      personId: row.external_id,
      status: row.status,
      yearlySavingMinor: row.yearly_saving_minor,
      effectiveDate: row.effective_date,
      guardrails: (row.guardrails as Array<{ code: string }>).map((guardrail) => guardrail.code).sort(),
    }));
    const key = byText((recommendation: { kind: string; personId: string }) => `${recommendation.personId}/${recommendation.kind}`);
    expect(actual.sort(key)).toEqual([...truth.recommendations].sort(key));
  });

  it('account has secondary on-call only person', () => {
    const activity = new Set(truth.features.filter((use) => featureSignals().activity[use.featureKey] !== undefined).map((use) => use.personId));
    const secondary = truth.coverage.find((cover) => cover.isPermanentOnCall && cover.strandedLevels.length > 0 && !activity.has(cover.personId) && cover.scheduleIds.length === 0);
    expect(secondary).toBeDefined();
    const level = truth.shifts.find((shift) => shift.userId === secondary?.personId);
    expect(level?.escalationLevel).toBe(2);
    expect(seen.people.find((person) => person.id === secondary?.personId)?.lastSeenAt).toBeNull();
  });

  it('account has deleted person in logs', async () => {
    const current = new Set(seen.people.map((person) => person.id));
    const deletedAgents = new Set(truth.features.filter((use) => !current.has(use.personId)).map((use) => use.personId));
    expect(deletedAgents.size).toBeGreaterThan(0);
    const stored = await database.db.selectFrom('person_features').select('external_id').where('connection_id', '=', connection.connectionId).execute();
    for (const id of deletedAgents) expect(stored.some((row) => row.external_id === id)).toBe(true);
  });

  it('account has shift across clock change', () => {
    const weekMs = 7 * DAY_MS;
    const changed = truth.shifts.filter((shift) => shift.startMs !== null && shift.endMs !== null && shift.startMs < NOW.getTime() && Math.abs(shift.endMs - shift.startMs - weekMs) === HOUR_MS);
    expect(changed.length).toBeGreaterThan(0);
  });

  it('account has flagged recommendations', async () => {
    const flaggedByPolicy = truth.recommendations.filter((recommendation) => recommendation.status === 'flagged' && recommendation.guardrails.join() === 'on_escalation_policy');
    expect(flaggedByPolicy.length).toBeGreaterThan(0);
    const withoutSeat = truth.recommendations.filter((recommendation) => recommendation.kind === 'downgrade_to_stakeholder' && recommendation.status === 'flagged' && recommendation.guardrails.join() === 'no_stakeholder_seat');
    expect(withoutSeat.length).toBeGreaterThan(0);
    const stakeholderSeats = seen.seats.filter((seat) => seat.roleGroup === 'Stakeholder');
    expect(stakeholderSeats.length).toBeGreaterThan(0);
    for (const seat of stakeholderSeats) expect(seat.paid, seat.licenseId).toBe(seat.allocated);

    const rows = await database.db
      .selectFrom('recommendations')
      .select(['kind', 'external_id', 'status', 'guardrails'])
      .where('connection_id', '=', connection.connectionId)
      .where('status', '=', 'flagged')
      .execute();
    const stored = rows.map((row) => `${row.kind}/${row.external_id}/${(row.guardrails as Array<{ code: string; severity: string }>).map((guardrail) => `${guardrail.code}:${guardrail.severity}`).join()}`);
    for (const recommendation of flaggedByPolicy) expect(stored).toContain(`${recommendation.kind}/${recommendation.personId}/on_escalation_policy:flag`);
    for (const recommendation of withoutSeat) expect(stored).toContain(`downgrade_to_stakeholder/${recommendation.personId}/no_stakeholder_seat:flag`);
  });

  it('account has team subscription reaching members', async () => {
    const teamSubscriptions = simulator.generated.inventory.businessServiceSubscribers.filter((subscriber) => subscriber.subscriberType === 'team');
    const directSubscribers = new Set(simulator.generated.inventory.businessServiceSubscribers.filter((subscriber) => subscriber.subscriberType === 'user').map((subscriber) => subscriber.subscriberId));
    const reachedOnlyByTeam = simulator.generated.users.filter(
      (user) => !directSubscribers.has(user.id) && teamSubscriptions.some((subscription) => user.teamIds.includes(subscription.subscriberId)),
    );
    expect(reachedOnlyByTeam.length).toBeGreaterThan(0);

    const rows = await database.db
      .selectFrom('person_features')
      .select(['external_id', 'count_30d'])
      .where('connection_id', '=', connection.connectionId)
      .where('feature_key', '=', 'stakeholder_subscription')
      .execute();
    const counts = new Map(rows.map((row) => [row.external_id, row.count_30d]));
    // Incidents count beside business services, each once, however the person follows it.
    const incidentSubscriptions = listIncidentsReadForSubscribers(simulator.generated, truthOptions).map((incident) => ({ incidentId: incident.id, subscribers: incidentSubscribers(simulator.generated, incident) }));
    const incidentsReaching = (user: (typeof reachedOnlyByTeam)[number]) =>
      incidentSubscriptions.filter(({ subscribers }) =>
        subscribers.some((subscriber) => (subscriber.subscriberType === 'user' ? subscriber.subscriberId === user.id : user.teamIds.includes(subscriber.subscriberId))),
      ).length;
    for (const member of reachedOnlyByTeam) {
      const expected = teamSubscriptions.filter((subscription) => member.teamIds.includes(subscription.subscriberId)).map((subscription) => subscription.businessServiceId);
      expect(counts.get(member.id), member.id).toBe(new Set(expected).size + incidentsReaching(member));
    }
  });

  it('account has incident subscriptions', async () => {
    const account = simulator.generated;
    const incidents = listIncidentsReadForSubscribers(account, truthOptions);
    const subscribersOf = new Map(incidents.map((incident) => [incident.id, incidentSubscribers(account, incident)]));
    const subscribedCount = [...subscribersOf.values()].filter((subscribers) => subscribers.length > 0).length;
    expect(subscribedCount).toBeGreaterThan(0);
    expect(subscribedCount).toBeLessThan(incidents.length);
    const isReachedTwice = [...subscribersOf.values()].some((subscribers) => {
      const teamIds = subscribers.filter((subscriber) => subscriber.subscriberType === 'team').map((subscriber) => subscriber.subscriberId);
      const users = subscribers.filter((subscriber) => subscriber.subscriberType === 'user').map((subscriber) => account.users.find((user) => user.id === subscriber.subscriberId));
      return users.some((user) => user?.teamIds.some((teamId) => teamIds.includes(teamId)) === true);
    });
    expect(isReachedTwice, 'a person subscribed to one incident directly and through a team').toBe(true);

    const stored = await database.db
      .selectFrom('pd_notification_subscriptions')
      .select(['subscribable_id', 'subscriber_type', 'subscriber_id'])
      .where('connection_id', '=', connection.connectionId)
      .where('subscribable_type', '=', 'incident')
      .execute();
    const expected = [...subscribersOf].flatMap(([incidentId, subscribers]) => subscribers.map((subscriber) => `${incidentId}/${subscriber.subscriberType}/${subscriber.subscriberId}`));
    expect(stored.map((row) => `${row.subscribable_id}/${row.subscriber_type}/${row.subscriber_id}`).sort()).toEqual(expected.sort());

    // Without them the expected use differs, so the comparison of feature use covers them.
    const withoutIncidents = simulator.usageTruth({ ...truthOptions, incidentSubscriberReads: { ...INCIDENT_SUBSCRIBER_READS, maxIncidents: 0 } });
    const subscriptionCounts = (uses: UsageTruth['features']) => uses.filter((use) => use.featureKey === 'stakeholder_subscription').map((use) => `${use.personId}:${use.count30d}`).sort();
    expect(subscriptionCounts(withoutIncidents.features)).not.toEqual(subscriptionCounts(truth.features));
  });

  it('account has every guardrail case', () => {
    const codes = new Set(truth.recommendations.flatMap((recommendation) => recommendation.guardrails));
    for (const code of ['exempt', 'account_owner', 'last_admin', 'strands_escalation_level', 'permanent_on_call', 'upcoming_on_call', 'on_escalation_policy', 'no_stakeholder_seat']) {
      expect(codes, code).toContain(code);
    }
    expect(truth.coverage.some((cover) => cover.openIncidentCount > 0)).toBe(true);
    const statuses = new Set(truth.recommendations.map((recommendation) => recommendation.status));
    expect(statuses).toContain('ready');
    expect(statuses).toContain('blocked');
    expect(statuses).toContain('flagged');
    expect(truth.recommendations.some((recommendation) => recommendation.yearlySavingMinor !== null && recommendation.yearlySavingMinor > 0)).toBe(true);
  });
});
