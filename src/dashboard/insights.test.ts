import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import type { RecommendationKind, RecommendationStatus } from '../db/schema.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection, daysBefore } from '../analytics/crunch.ts';
import { saveContract } from '../analytics/contracts.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers, type LogEntrySeed, type UserSeed } from '../analytics/testing.ts';
import { presentFeatures } from './features.ts';
import { presentOverview } from './overview.ts';
import { ACTIVITY_FILTERS, peopleQuerySchema, presentPeople, type ActivityFilter } from './people.ts';

/*
 * The expected figures below are computed in this file from the seed arrays, with plain
 * JavaScript, never read back from the tables the crunch writes.
 */

// A Wednesday, so the newest week is partial.
const AS_OF = new Date('2026-06-03T12:00:00Z');
const DAY_MS = 86_400_000;
const RAW = JSON.stringify({});

const USERS: UserSeed[] = [
  { id: 'PA', name: 'Ada', licenseId: 'LFULL' },
  { id: 'PB', name: 'Bob', licenseId: 'LFULL' },
  { id: 'PC', name: 'Cyd', licenseId: 'LFULL' },
  { id: 'PD', name: 'Dee', licenseId: 'LSTAKE' },
  { id: 'PE', name: 'Eve', licenseId: 'LFULL', deletedAt: daysBefore(AS_OF, 2) },
  { id: 'PF', name: 'Fay', licenseId: 'LFULL' },
  { id: 'PG', name: 'Gus' },
];

const TEAMS: Record<string, string[]> = {
  TPLAT: ['PA', 'PB', 'PE'],
  TWEB: ['PA', 'PC', 'PF'],
  TDATA: ['PD'],
};
const TEAM_NAMES: Record<string, string> = { TPLAT: 'Platform', TWEB: 'Web', TDATA: 'Data' };

const LOG_ENTRIES: LogEntrySeed[] = [
  { id: 'L1', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 1), agentId: 'PA', channelType: 'mobile' },
  { id: 'L2', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 2), agentId: 'PA', channelType: 'website' },
  { id: 'L3', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 10), agentId: 'PB', channelType: 'website' },
  { id: 'L4', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 12), agentId: 'PC', channelType: 'slack' },
  { id: 'L5', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 45), agentId: 'PC', channelType: 'website' },
  { id: 'L6', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 75), agentId: 'PD', channelType: 'website' },
  { id: 'L7', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 20), agentId: 'PE', channelType: 'website' },
  { id: 'L8', type: 'annotate_log_entry', createdAt: daysBefore(AS_OF, 33), agentId: 'PB', channelType: 'website' },
  { id: 'L9', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 3), agentId: 'PG', channelType: 'website' },
];

/** Lists the features a seeded log entry shows, by the catalogue's rules for these types and channels. */
function featuresOf(entry: LogEntrySeed): string[] {
  const byType: Record<string, string> = { acknowledge_log_entry: 'incident_acknowledge', resolve_log_entry: 'incident_resolve', annotate_log_entry: 'incident_note' };
  const byChannel: Record<string, string> = { mobile: 'mobile_app', slack: 'chat_integration' };
  return [byType[entry.type], byChannel[entry.channelType ?? '']].filter((key): key is string => key !== undefined);
}

function mondayOf(instant: Date): string {
  const day = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

/** Counts distinct agents per feature and ISO week, keyed `feature/week`. */
function expectedFeatureWeeks(entries: LogEntrySeed[]): Map<string, number> {
  const people = new Map<string, Set<string>>();
  for (const entry of entries) {
    for (const feature of featuresOf(entry)) {
      const key = `${feature}/${mondayOf(entry.createdAt)}`;
      people.set(key, (people.get(key) ?? new Set()).add(entry.agentId ?? ''));
    }
  }
  return new Map([...people].map(([key, agents]) => [key, agents.size]));
}

/** Counts distinct active members per team and ISO week, keyed `team/week`; every seeded feature counts for teams. */
function expectedTeamWeeks(entries: LogEntrySeed[], teams: Record<string, string[]>): Map<string, number> {
  const people = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (featuresOf(entry).length === 0) continue;
    for (const [teamId, members] of Object.entries(teams)) {
      if (!members.includes(entry.agentId ?? '')) continue;
      const key = `${TEAM_NAMES[teamId]}/${mondayOf(entry.createdAt)}`;
      people.set(key, (people.get(key) ?? new Set()).add(entry.agentId ?? ''));
    }
  }
  return new Map([...people].map(([key, agents]) => [key, agents.size]));
}

function lastSeenOf(userId: string): Date | null {
  const times = LOG_ENTRIES.filter((entry) => entry.agentId === userId).map((entry) => entry.createdAt.getTime());
  return times.length === 0 ? null : new Date(Math.max(...times));
}

function matchesActivity(userId: string, activity: ActivityFilter): boolean {
  const lastSeen = lastSeenOf(userId);
  const isWithin = (days: number) => lastSeen !== null && lastSeen.getTime() >= AS_OF.getTime() - days * DAY_MS;
  switch (activity) {
    case 'active30d':
      return isWithin(30);
    case 'active60d':
      return isWithin(60);
    case 'active90d':
      return isWithin(90);
    case 'inactive30d':
      return !isWithin(30);
    case 'inactive60d':
      return !isWithin(60);
    case 'inactive90d':
      return !isWithin(90);
    case 'never':
      return lastSeen === null;
    default:
      throw new Error(`Unknown activity filter ${String(activity)}`);
  }
}

interface RecommendationSeed {
  kind: RecommendationKind;
  externalId: string;
  status: RecommendationStatus;
  currency: string | null;
  yearlySavingMinor: number | null;
}

const RECOMMENDATIONS: RecommendationSeed[] = [
  { kind: 'reclaim_seat', externalId: 'PF', status: 'ready', currency: 'USD', yearlySavingMinor: 49_200 },
  { kind: 'reclaim_seat', externalId: 'PD', status: 'flagged', currency: 'USD', yearlySavingMinor: 3_600 },
  { kind: 'reclaim_seat', externalId: 'PC', status: 'blocked', currency: 'USD', yearlySavingMinor: 49_200 },
  { kind: 'downgrade_to_stakeholder', externalId: 'PB', status: 'ready', currency: 'USD', yearlySavingMinor: 45_600 },
  { kind: 'downgrade_to_stakeholder', externalId: 'PA', status: 'flagged', currency: 'EUR', yearlySavingMinor: 40_000 },
  { kind: 'remove_invitation', externalId: 'PG', status: 'ready', currency: null, yearlySavingMinor: null },
];

function expectedSavings(currency: string | null) {
  return (['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation'] as const).map((kind) => {
    const open = RECOMMENDATIONS.filter((row) => row.kind === kind && row.status !== 'blocked');
    const priced = open.filter((row) => currency !== null && row.currency === currency && row.yearlySavingMinor !== null);
    return {
      kind,
      openCount: open.length,
      yearlySavingMinor: currency === null ? null : priced.reduce((sum, row) => sum + (row.yearlySavingMinor ?? 0), 0),
      unpricedCount: open.length - priced.length,
      blockedCount: RECOMMENDATIONS.filter((row) => row.kind === kind && row.status === 'blocked').length,
    };
  });
}

describe.each(testDatabaseTargets())('overview, people filters and team use on $name', ({ open }) => {
  let database: Database;
  let tenant: { organizationId: string; connectionId: string };
  let otherTenant: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    const { db } = database;
    tenant = await createTenant(db, 'Acme');
    otherTenant = await createTenant(db, 'Globex');
    const { connectionId } = tenant;

    await insertLicenses(db, connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 6, allocationsAvailable: 0 },
      { id: 'LSTAKE', name: 'Business (Stakeholder)', roleGroup: 'Stakeholder', currentValue: 1, allocationsAvailable: 1 },
    ]);
    await insertUsers(db, connectionId, USERS);
    await insertLogEntries(db, connectionId, LOG_ENTRIES);
    await db
      .insertInto('pd_teams')
      .values(Object.entries(TEAM_NAMES).map(([id, name]) => ({ connection_id: connectionId, id, name, raw: RAW })))
      .execute();
    await db
      .insertInto('pd_team_members')
      .values(Object.entries(TEAMS).flatMap(([teamId, userIds]) => userIds.map((userId) => ({ connection_id: connectionId, team_id: teamId, user_id: userId, role: 'responder' }))))
      .execute();
    await db
      .insertInto('pd_capabilities')
      .values({ connection_id: connectionId, abilities: '[]', unavailable_streams: JSON.stringify({ audit_records: 'The plan lacks the Audit Trail feature.' }) })
      .execute();

    // The other organization's people share ids and teams, so any leak across organizations shows.
    await insertUsers(db, otherTenant.connectionId, [{ id: 'PA', name: 'Ada Globex' }]);
    await insertLogEntries(db, otherTenant.connectionId, [{ id: 'G1', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 1), agentId: 'PA' }]);
    await db.insertInto('pd_teams').values({ connection_id: otherTenant.connectionId, id: 'TPLAT', name: 'Platform', raw: RAW }).execute();
    await db.insertInto('pd_team_members').values({ connection_id: otherTenant.connectionId, team_id: 'TPLAT', user_id: 'PA', role: 'responder' }).execute();

    await crunchConnection(db, connectionId, AS_OF);
    await crunchConnection(db, otherTenant.connectionId, AS_OF);

    // Recommendations are replaced by known rows, so the savings do not depend on the rules engine.
    await db.deleteFrom('recommendations').where('connection_id', '=', connectionId).execute();
    await db
      .insertInto('recommendations')
      .values(
        RECOMMENDATIONS.map((row) => ({
          connection_id: connectionId,
          organization_id: tenant.organizationId,
          kind: row.kind,
          external_id: row.externalId,
          email: `${row.externalId.toLowerCase()}@example.com`,
          name: row.externalId,
          status: row.status,
          currency: row.currency,
          yearly_saving_minor: row.yearlySavingMinor,
          effective_date: '2026-07-01',
          evidence: '{}',
          guardrails: '[]',
        })),
      )
      .execute();

    await db
      .insertInto('sync_runs')
      .values([
        { organization_id: tenant.organizationId, connection_id: connectionId, kind: 'full', status: 'succeeded', trigger: 'connect', started_at: daysBefore(AS_OF, 3), finished_at: new Date(daysBefore(AS_OF, 3).getTime() + 60_000), created_at: daysBefore(AS_OF, 3) },
        { organization_id: tenant.organizationId, connection_id: connectionId, kind: 'incremental', status: 'partial', trigger: 'schedule', started_at: AS_OF, finished_at: new Date(AS_OF.getTime() + 30_000), error_message: 'notifications: failed', created_at: AS_OF },
      ])
      .execute();
  });

  afterAll(async () => {
    await database.close();
  });

  it('savings without contract have no amounts', async () => {
    const view = await presentOverview(database.db, tenant.organizationId);
    expect(view.savings).toEqual({ currency: null, yearlyTotalMinor: null, byKind: expectedSavings(null) });
  });

  it('savings sum open recommendations per kind', async () => {
    const saved = await saveContract(database.db, tenant.organizationId, { billingPeriod: 'monthly', currency: 'USD', lines: [{ licenseName: 'Business (Full User)', seats: 6, pricePerSeat: '41.00' }] });
    expect(saved.ok).toBe(true);
    try {
      const view = await presentOverview(database.db, tenant.organizationId);
      const byKind = expectedSavings('USD');
      expect(view.savings.byKind).toEqual(byKind);
      expect(view.savings.currency).toBe('USD');
      expect(view.savings.yearlyTotalMinor).toBe(byKind.reduce((sum, kind) => sum + (kind.yearlySavingMinor ?? 0), 0));
      // The EUR saving and the blocked reclaim are left out.
      expect(view.savings.yearlyTotalMinor).toBe(49_200 + 3_600 + 45_600);
    } finally {
      await database.db.deleteFrom('contracts').where('organization_id', '=', tenant.organizationId).execute();
    }
  });

  it('weekly activity covers the synced history', async () => {
    const view = await presentOverview(database.db, tenant.organizationId);
    const weekly = view.weeklyActivity;

    const firstEntry = new Date(Math.min(...LOG_ENTRIES.map((entry) => entry.createdAt.getTime())));
    const expectedWeeks: string[] = [];
    for (let week = new Date(`${mondayOf(firstEntry)}T00:00:00Z`); week <= AS_OF; week = new Date(week.getTime() + 7 * DAY_MS)) {
      expectedWeeks.push(week.toISOString().slice(0, 10));
    }
    expect(weekly.weekStarts).toEqual(expectedWeeks);
    expect(weekly.firstDay).toBe(firstEntry.toISOString().slice(0, 10));
    expect(weekly.lastDay).toBe(AS_OF.toISOString().slice(0, 10));

    const expected = new Map<string, Set<string>>();
    for (const entry of LOG_ENTRIES) {
      for (const feature of featuresOf(entry)) {
        const key = `${feature}/${mondayOf(entry.createdAt)}`;
        expected.set(key, (expected.get(key) ?? new Set()).add(entry.agentId ?? ''));
      }
    }
    const expectedFeatures = [...new Set(LOG_ENTRIES.flatMap(featuresOf))].sort();
    expect(weekly.series.map((series) => series.featureKey).sort()).toEqual(expectedFeatures);
    for (const series of weekly.series) {
      expect(series.activePeople, series.featureKey).toEqual(expectedWeeks.map((week) => expected.get(`${series.featureKey}/${week}`)?.size ?? 0));
    }
  });

  it('freshness reports sync times and status', async () => {
    const view = await presentOverview(database.db, tenant.organizationId);
    expect(view.freshness).toEqual({
      connectionStatus: 'connected',
      statusReason: null,
      statusChangedAt: expect.any(String),
      isVisibilityLimited: false,
      lastSyncAt: '2026-06-01T00:00:00.000Z',
      lastSuccessfulSyncAt: new Date(daysBefore(AS_OF, 3).getTime() + 60_000).toISOString(),
      lastRun: { status: 'partial', finishedAt: new Date(AS_OF.getTime() + 30_000).toISOString(), errorMessage: 'notifications: failed' },
    });
  });

  it('freshness flags limited visibility and reconnect', async () => {
    const { db } = database;
    const reason = 'Connected as a responder, not an admin.';
    try {
      await db.updateTable('connections').set({ status_reason: reason }).where('id', '=', tenant.connectionId).execute();
      const limited = await presentOverview(db, tenant.organizationId);
      expect(limited.freshness.isVisibilityLimited).toBe(true);
      expect(limited.freshness.statusReason).toBe(reason);

      await db.updateTable('connections').set({ status: 'needs_reconnect', status_reason: 'The refresh token was revoked.' }).where('id', '=', tenant.connectionId).execute();
      const lost = await presentOverview(db, tenant.organizationId);
      expect(lost.freshness.connectionStatus).toBe('needs_reconnect');
      expect(lost.freshness.isVisibilityLimited).toBe(false);
      expect(lost.freshness.statusReason).toBe('The refresh token was revoked.');
    } finally {
      await db.updateTable('connections').set({ status: 'connected', status_reason: null }).where('id', '=', tenant.connectionId).execute();
    }
  });

  it('freshness without connection is empty', async () => {
    const organization = await database.db.insertInto('organizations').values({ name: 'Empty' }).returning('id').executeTakeFirstOrThrow();
    const view = await presentOverview(database.db, organization.id);
    expect(view.freshness.connectionStatus).toBe('not_connected');
    expect(view.freshness.lastSuccessfulSyncAt).toBeNull();
    expect(view.confidence).toEqual({ level: 'unknown', availableCount: 0, signals: [] });
    expect(view.weeklyActivity.series).toEqual([]);
    expect(view.savings.byKind.every((kind) => kind.openCount === 0)).toBe(true);
  });

  it('confidence names unavailable signals', async () => {
    const view = await presentOverview(database.db, tenant.organizationId);
    expect(view.confidence.level).toBe('partial');
    const auditSignal = view.confidence.signals.find((signal) => signal.signal === 'configuration_change');
    expect(auditSignal).toEqual({ signal: 'configuration_change', status: 'unavailable', reason: 'The plan lacks the Audit Trail feature.' });
    expect(view.confidence.availableCount).toBe(view.confidence.signals.filter((signal) => signal.status === 'available').length);
    // Unavailable signals come first, so the page names them before the rest.
    expect(view.confidence.signals[0]?.status).toBe('unavailable');
  });

  it.each(ACTIVITY_FILTERS)('people filter by activity %s', async (activity) => {
    const view = await presentPeople(database.db, tenant.organizationId, { activity, sort: 'name' });
    const expected = USERS.filter((user) => matchesActivity(user.id, activity)).map((user) => user.id);
    expect(view.rows.map((row) => row.externalId).sort()).toEqual(expected.sort());
    expect(view.total).toBe(expected.length);
  });

  it('people filter by seat', async () => {
    const holdsSeat = (user: UserSeed) => user.licenseId !== undefined && user.deletedAt === undefined;
    const allocated = await presentPeople(database.db, tenant.organizationId, { seat: 'allocated' });
    expect(allocated.rows.map((row) => row.externalId).sort()).toEqual(USERS.filter(holdsSeat).map((user) => user.id).sort());
    const unallocated = await presentPeople(database.db, tenant.organizationId, { seat: 'unallocated' });
    expect(unallocated.rows.map((row) => row.externalId).sort()).toEqual(USERS.filter((user) => !holdsSeat(user)).map((user) => user.id).sort());
  });

  it('seat and activity filters match overview', async () => {
    const { totals } = await presentOverview(database.db, tenant.organizationId);
    const active30 = await presentPeople(database.db, tenant.organizationId, { seat: 'allocated', activity: 'active30d' });
    expect(active30.total).toBe(totals.active30d);
    const inactive90 = await presentPeople(database.db, tenant.organizationId, { seat: 'allocated', activity: 'inactive90d' });
    expect(inactive90.total).toBe(totals.allocated - totals.active90d);
    const allocated = await presentPeople(database.db, tenant.organizationId, { seat: 'allocated' });
    expect(allocated.total).toBe(totals.allocated);
  });

  it('people filter by team', async () => {
    for (const [teamId, members] of Object.entries(TEAMS)) {
      const view = await presentPeople(database.db, tenant.organizationId, { team: TEAM_NAMES[teamId] });
      expect(view.rows.map((row) => row.externalId).sort(), teamId).toEqual([...members].sort());
    }
    const unknown = await presentPeople(database.db, tenant.organizationId, { team: 'Nobody' });
    expect(unknown.total).toBe(0);
  });

  it('people list team options', async () => {
    const view = await presentPeople(database.db, tenant.organizationId, {});
    expect(view.teamOptions).toEqual(Object.values(TEAM_NAMES).sort((left, right) => left.localeCompare(right)));
  });

  it('people filter by recommendation', async () => {
    for (const kind of ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation'] as const) {
      const view = await presentPeople(database.db, tenant.organizationId, { recommendation: kind });
      const expected = RECOMMENDATIONS.filter((row) => row.kind === kind).map((row) => row.externalId);
      expect(view.rows.map((row) => row.externalId).sort(), kind).toEqual(expected.sort());
    }
    const none = await presentPeople(database.db, tenant.organizationId, { recommendation: 'none' });
    const recommended = new Set(RECOMMENDATIONS.map((row) => row.externalId));
    expect(none.rows.map((row) => row.externalId).sort()).toEqual(USERS.filter((user) => !recommended.has(user.id)).map((user) => user.id).sort());
  });

  it('people filters combine with search and paging', async () => {
    const query = { team: 'Platform', activity: 'active30d', license: 'LFULL', search: 'b', sort: 'name', direction: 'desc', pageSize: 1, page: 1 } as const;
    const view = await presentPeople(database.db, tenant.organizationId, query);
    const expected = TEAMS.TPLAT?.filter((id) => {
      const user = USERS.find((candidate) => candidate.id === id);
      return user?.licenseId === 'LFULL' && matchesActivity(id, 'active30d') && (user.name ?? '').toLowerCase().includes('b');
    });
    expect(view.total).toBe(expected?.length);
    expect(view.rows.map((row) => row.externalId)).toEqual(['PB']);

    const withRecommendation = await presentPeople(database.db, tenant.organizationId, { team: 'Web', recommendation: 'reclaim_seat', activity: 'inactive30d' });
    const reclaimed = new Set(RECOMMENDATIONS.filter((row) => row.kind === 'reclaim_seat').map((row) => row.externalId));
    const expectedWeb = (TEAMS.TWEB ?? []).filter((id) => reclaimed.has(id) && matchesActivity(id, 'inactive30d'));
    expect(expectedWeb).toEqual(['PF']);
    expect(withRecommendation.rows.map((row) => row.externalId)).toEqual(expectedWeb);
  });

  it('people filters stay within organization', async () => {
    const view = await presentPeople(database.db, otherTenant.organizationId, { team: 'Platform', activity: 'active30d' });
    expect(view.rows.map((row) => row.name)).toEqual(['Ada Globex']);
    expect(view.teamOptions).toEqual(['Platform']);
  });

  it('people query rejects unknown filter values', () => {
    for (const [field, value] of [
      ['activity', 'active7d'],
      ['seat', 'maybe'],
      ['recommendation', 'fire_everyone'],
      ['sort', 'password'],
      ['direction', 'sideways'],
    ] as const) {
      const parsed = peopleQuerySchema.safeParse({ [field]: value });
      expect(parsed.success, field).toBe(false);
      const message = parsed.error?.issues[0]?.message ?? '';
      expect(message, field).toContain(field);
      expect(message, field).toContain(JSON.stringify(value));
    }
    expect(peopleQuerySchema.safeParse({ team: '   ' }).success).toBe(false);
  });

  it('team feature use counts the last 30 days', async () => {
    const view = await presentFeatures(database.db, tenant.organizationId);
    const { teamFeatureUse } = view;
    const deleted = new Set(USERS.filter((user) => user.deletedAt !== undefined).map((user) => user.id));
    const currentMembers = (teamId: string) => (TEAMS[teamId] ?? []).filter((id) => !deleted.has(id));

    expect(teamFeatureUse.teams).toEqual(
      Object.entries(TEAM_NAMES)
        .map(([id, team]) => ({ team, memberCount: currentMembers(id).length }))
        .sort((left, right) => left.team.localeCompare(right.team)),
    );

    const recent = LOG_ENTRIES.filter((entry) => entry.createdAt.getTime() >= AS_OF.getTime() - 30 * DAY_MS);
    const expectedCells = Object.entries(TEAM_NAMES).flatMap(([teamId, team]) => {
      const members = currentMembers(teamId);
      const features = [...new Set(recent.flatMap(featuresOf))];
      return features.flatMap((featureKey) => {
        const active = new Set(recent.filter((entry) => members.includes(entry.agentId ?? '') && featuresOf(entry).includes(featureKey)).map((entry) => entry.agentId));
        return active.size === 0 ? [] : [{ team, featureKey, activePeople: active.size, share: active.size / members.length }];
      });
    });
    const order = (left: { team: string; featureKey: string }, right: { team: string; featureKey: string }) =>
      left.team.localeCompare(right.team) || left.featureKey.localeCompare(right.featureKey);
    expect(teamFeatureUse.cells).toEqual(expectedCells.sort(order));
    expect(new Set(teamFeatureUse.features.map((feature) => feature.key))).toEqual(new Set(expectedCells.map((cell) => cell.featureKey)));
  });

  it('weekly figures equal fixture counts', async () => {
    const features = await presentFeatures(database.db, tenant.organizationId, { weeks: 104 });
    const featureWeeks = new Map(features.weekly.map((row) => [`${row.featureKey}/${row.weekStart}`, row.activePeople]));
    expect(featureWeeks).toEqual(expectedFeatureWeeks(LOG_ENTRIES));
    const teamWeeks = new Map(features.weeklyByTeam.map((row) => [`${row.team}/${row.weekStart}`, row.activePeople]));
    expect(teamWeeks).toEqual(expectedTeamWeeks(LOG_ENTRIES, TEAMS));
  });

  // Runs second to last: it crunches again, which rewrites the recommendations seeded above.
  it('weekly figures follow incremental crunch', async () => {
    const changedSince = daysBefore(AS_OF, 1);
    const added: LogEntrySeed[] = [
      { id: 'L11', type: 'acknowledge_log_entry', createdAt: new Date(changedSince.getTime() + 3_600_000), agentId: 'PB', channelType: 'mobile' },
      { id: 'L12', type: 'annotate_log_entry', createdAt: new Date(changedSince.getTime() + 7_200_000), agentId: 'PF', channelType: 'website' },
    ];
    await insertLogEntries(database.db, tenant.connectionId, added);
    // Dee joins Web, so the team figures of weeks before the changed one must follow too.
    await database.db.insertInto('pd_team_members').values({ connection_id: tenant.connectionId, team_id: 'TWEB', user_id: 'PD', role: 'responder' }).execute();
    const teams = { ...TEAMS, TWEB: [...(TEAMS.TWEB ?? []), 'PD'] };

    try {
      await crunchConnection(database.db, tenant.connectionId, AS_OF, { changedSince });
      const entries = [...LOG_ENTRIES, ...added];

      const features = await presentFeatures(database.db, tenant.organizationId, { weeks: 104 });
      expect(new Map(features.weekly.map((row) => [`${row.featureKey}/${row.weekStart}`, row.activePeople]))).toEqual(expectedFeatureWeeks(entries));
      expect(new Map(features.weeklyByTeam.map((row) => [`${row.team}/${row.weekStart}`, row.activePeople]))).toEqual(expectedTeamWeeks(entries, teams));

      const overview = await presentOverview(database.db, tenant.organizationId);
      const expected = expectedFeatureWeeks(entries);
      for (const series of overview.weeklyActivity.series) {
        expect(series.activePeople, series.featureKey).toEqual(overview.weeklyActivity.weekStarts.map((week) => expected.get(`${series.featureKey}/${week}`) ?? 0));
      }
      expect(overview.weeklyActivity.series.map((series) => series.featureKey).sort()).toEqual([...new Set(entries.flatMap(featuresOf))].sort());
    } finally {
      await database.db.deleteFrom('pd_log_entries').where('connection_id', '=', tenant.connectionId).where('id', 'in', added.map((entry) => entry.id)).execute();
      await database.db.deleteFrom('pd_team_members').where('connection_id', '=', tenant.connectionId).where('team_id', '=', 'TWEB').where('user_id', '=', 'PD').execute();
      await crunchConnection(database.db, tenant.connectionId, AS_OF);
    }
  });

  // Runs last: it crunches again, which rewrites the recommendations seeded above.
  it('weekly activity follows a new crunch', async () => {
    const before = await presentOverview(database.db, tenant.organizationId);
    const later = new Date(AS_OF.getTime() + 7 * DAY_MS);
    await insertLogEntries(database.db, tenant.connectionId, [{ id: 'L10', type: 'snooze_log_entry', createdAt: new Date(later.getTime() - DAY_MS), agentId: 'PF' }]);
    await crunchConnection(database.db, tenant.connectionId, later);

    const after = await presentOverview(database.db, tenant.organizationId);
    expect(after.weeklyActivity.weekStarts).toEqual([...before.weeklyActivity.weekStarts, mondayOf(later)]);
    const snooze = after.weeklyActivity.series.find((series) => series.featureKey === 'incident_snooze');
    expect(snooze?.activePeople.at(-1)).toBe(1);
    expect(before.weeklyActivity.series.some((series) => series.featureKey === 'incident_snooze')).toBe(false);
  });
});
