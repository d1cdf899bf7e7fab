import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection, daysBefore } from '../analytics/crunch.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers } from '../analytics/testing.ts';
import { saveContract } from '../analytics/contracts.ts';
import { presentOverview } from './overview.ts';
import { presentPeople } from './people.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');

describe.each(testDatabaseTargets())('dashboard presenters on $name', ({ open }) => {
  let database: Database;
  let acme: { organizationId: string; connectionId: string };
  let globex: { organizationId: string; connectionId: string };
  let emptyOrganizationId: string;

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    const { db } = database;
    acme = await createTenant(db, 'Acme');
    globex = await createTenant(db, 'Globex');
    emptyOrganizationId = (await db.insertInto('organizations').values({ name: 'Empty' }).returning('id').executeTakeFirstOrThrow()).id;

    await insertLicenses(db, acme.connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 3, allocationsAvailable: 2 },
      { id: 'LSTAKE', name: 'Business (Stakeholder)', roleGroup: 'Stakeholder', currentValue: 1, allocationsAvailable: 4 },
    ]);
    await insertUsers(db, acme.connectionId, [
      { id: 'PA', name: 'Ada Lovelace', email: 'ada@acme.test', role: 'admin', licenseId: 'LFULL' },
      { id: 'PB', name: 'Brian 50% Kernighan', email: 'brian@acme.test', role: 'user', licenseId: 'LFULL' },
      { id: 'PC', name: 'Claude Shannon', email: 'claude_s@acme.test', role: 'limited_user', licenseId: 'LFULL' },
      { id: 'PD', name: 'Dana Scott', email: 'dana@acme.test', role: 'read_only_user', licenseId: 'LSTAKE' },
      { id: 'PE', name: 'Edsger Dijkstra', email: 'edsger@acme.test', role: 'user' },
    ]);
    await insertLogEntries(db, acme.connectionId, [
      { id: 'E1', type: 'acknowledge_log_entry', createdAt: daysBefore(AS_OF, 1), agentId: 'PA', channelType: 'mobile' },
      { id: 'E2', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 45), agentId: 'PB', channelType: 'website' },
      { id: 'E3', type: 'resolve_log_entry', createdAt: daysBefore(AS_OF, 3), agentId: 'PE', channelType: 'website' },
    ]);
    await insertLicenses(db, globex.connectionId, [
      { id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 1, allocationsAvailable: 9 },
    ]);
    await insertUsers(db, globex.connectionId, [{ id: 'PA', name: 'Ada Globex', email: 'ada@globex.test', licenseId: 'LFULL' }]);

    await crunchConnection(db, acme.connectionId, AS_OF);
    await crunchConnection(db, globex.connectionId, AS_OF);
  });

  afterAll(async () => {
    await database.close();
  });

  it('overview lists seats per license', async () => {
    const view = await presentOverview(database.db, acme.organizationId);
    expect(view.connection).toEqual({ subdomain: 'acme', region: 'us', lastSyncAt: '2026-06-01T00:00:00.000Z' });
    expect(view.computedAt).toBe(AS_OF.toISOString());
    expect(view.seats).toEqual([
      { licenseId: 'LFULL', licenseName: 'Business (Full User)', roleGroup: 'FullUser', paid: 5, allocated: 3, active30d: 1, active60d: 2, active90d: 2, neverActive: 1 },
      { licenseId: 'LSTAKE', licenseName: 'Business (Stakeholder)', roleGroup: 'Stakeholder', paid: 5, allocated: 1, active30d: 0, active60d: 0, active90d: 0, neverActive: 1 },
    ]);
    expect(view.totals).toEqual({ paid: 10, allocated: 4, active30d: 1, active90d: 2 });
    expect(view.costs).toBeNull();
  });

  it('overview divides cost by active people', async () => {
    const saved = await saveContract(database.db, acme.organizationId, {
      billingPeriod: 'monthly',
      lines: [{ licenseName: 'Business (Full User)', seats: 5, pricePerSeat: '41.00' }],
    });
    expect(saved.ok).toBe(true);
    const view = await presentOverview(database.db, acme.organizationId);
    expect(view.costs).toEqual({ currency: 'USD', yearlyTotalMinor: 246_000, perActiveUser30dMinor: 246_000, perActiveUser90dMinor: 123_000 });
    await database.db.deleteFrom('contracts').where('organization_id', '=', acme.organizationId).execute();
  });

  it('overview without connection is empty', async () => {
    const view = await presentOverview(database.db, emptyOrganizationId);
    expect(view).toEqual({
      connection: null,
      computedAt: null,
      seats: [],
      seatsByRole: null,
      totals: { paid: 0, allocated: 0, active30d: 0, active90d: 0 },
      costs: null,
      savings: {
        currency: null,
        yearlyTotalMinor: null,
        byKind: ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation'].map((kind) => ({ kind, openCount: 0, yearlySavingMinor: null, unpricedCount: 0, blockedCount: 0 })),
      },
      weeklyActivity: { weekStarts: [], firstDay: null, lastDay: null, series: [] },
      freshness: {
        connectionStatus: 'not_connected',
        statusReason: null,
        statusChangedAt: null,
        isVisibilityLimited: false,
        lastSyncAt: null,
        lastSuccessfulSyncAt: null,
        lastRun: null,
      },
      confidence: { level: 'unknown', availableCount: 0, signals: [] },
    });
  });

  it('overview stays within its organization', async () => {
    const view = await presentOverview(database.db, globex.organizationId);
    expect(view.seats.map((seat) => seat.paid)).toEqual([10]);
    expect(view.totals.allocated).toBe(1);
  });

  it('people sorted by name by default', async () => {
    const view = await presentPeople(database.db, acme.organizationId, {});
    expect(view.rows.map((row) => row.externalId)).toEqual(['PA', 'PB', 'PC', 'PD', 'PE']);
    expect(view.total).toBe(5);
    expect(view.page).toBe(1);
    expect(view.pageSize).toBe(50);
    expect(view.rows[0]).toEqual({
      externalId: 'PA',
      name: 'Ada Lovelace',
      email: 'ada@acme.test',
      role: 'admin',
      licenseName: 'Business (Full User)',
      roleGroup: 'FullUser',
      seatBasis: 'license',
      lastSeenAt: daysBefore(AS_OF, 1).toISOString(),
      lastSeenSignal: 'incident_action',
      lastSeenDetail: 'acknowledge via mobile',
      isDeleted: false,
      isInvitedNeverSignedUp: false,
      lastActivityAt: daysBefore(AS_OF, 1).toISOString(),
      lastActivitySignal: 'incident_action',
      lastActivityDetail: 'acknowledge via mobile',
      teams: [],
      recommendation: null,
    });
  });

  it('people search treats wildcards literally', async () => {
    const percent = await presentPeople(database.db, acme.organizationId, { search: '50%' });
    expect(percent.rows.map((row) => row.externalId)).toEqual(['PB']);
    const underscore = await presentPeople(database.db, acme.organizationId, { search: 'claude_' });
    expect(underscore.rows.map((row) => row.externalId)).toEqual(['PC']);
    const injection = await presentPeople(database.db, acme.organizationId, { search: "' or 1=1 --" });
    expect(injection.total).toBe(0);
  });

  it('people search matches email case-insensitively', async () => {
    const view = await presentPeople(database.db, acme.organizationId, { search: 'DANA@' });
    expect(view.rows.map((row) => row.externalId)).toEqual(['PD']);
  });

  it('people filter by license', async () => {
    const byId = await presentPeople(database.db, acme.organizationId, { license: 'LSTAKE' });
    expect(byId.rows.map((row) => row.externalId)).toEqual(['PD']);
    const byName = await presentPeople(database.db, acme.organizationId, { license: 'Business (Full User)' });
    expect(byName.rows.map((row) => row.externalId)).toEqual(['PA', 'PB', 'PC']);
  });

  it('people sort by last seen', async () => {
    const descending = await presentPeople(database.db, acme.organizationId, { sort: 'lastSeen', direction: 'desc' });
    expect(descending.rows.map((row) => row.externalId)).toEqual(['PA', 'PE', 'PB', 'PC', 'PD']);
    const ascending = await presentPeople(database.db, acme.organizationId, { sort: 'lastSeen', direction: 'asc' });
    expect(ascending.rows.map((row) => row.externalId)).toEqual(['PB', 'PE', 'PA', 'PC', 'PD']);
  });

  it('people sort by role and license', async () => {
    const byRole = await presentPeople(database.db, acme.organizationId, { sort: 'role' });
    expect(byRole.rows.map((row) => row.role)).toEqual(['admin', 'limited_user', 'read_only_user', 'user', 'user']);
    const byLicense = await presentPeople(database.db, acme.organizationId, { sort: 'license', direction: 'desc' });
    expect(byLicense.rows.map((row) => row.externalId)).toEqual(['PD', 'PA', 'PB', 'PC', 'PE']);
  });

  it('people pages through results', async () => {
    const second = await presentPeople(database.db, acme.organizationId, { page: 2, pageSize: 2, sort: 'email' });
    expect(second.rows.map((row) => row.externalId)).toEqual(['PC', 'PD']);
    expect(second.total).toBe(5);
    const beyond = await presentPeople(database.db, acme.organizationId, { page: 9, pageSize: 2 });
    expect(beyond.rows).toEqual([]);
    expect(beyond.total).toBe(5);
  });

  it('people stay within organization', async () => {
    const view = await presentPeople(database.db, globex.organizationId, { search: 'ada' });
    expect(view.rows.map((row) => row.email)).toEqual(['ada@globex.test']);
  });

  it('people rejects an unknown sort', async () => {
    await expect(presentPeople(database.db, acme.organizationId, { sort: 'password' as never })).rejects.toThrow(/sort/);
    await expect(presentPeople(database.db, acme.organizationId, { pageSize: 10_000 })).rejects.toThrow(/pageSize/);
  });
});
