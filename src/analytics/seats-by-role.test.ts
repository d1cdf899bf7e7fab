import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type LicenseAccess, type RunningSimulator } from '../../simulator/index.ts';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { runSync } from '../sync/run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from '../sync/testing.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from './crunch.ts';
import { presentOverview } from '../dashboard/overview.ts';
import { MAX_PAGE_SIZE, presentPeople } from '../dashboard/people.ts';
import { presentPerson } from '../dashboard/person.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';
import { exportPeopleCsv } from '../exports/people.ts';
import { buildReport } from '../report/build.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const FULL_USER = new Set(['owner', 'admin', 'user', 'limited_user', 'observer', 'restricted_access']);
const STAKEHOLDER = new Set(['read_only_user', 'read_only_limited_user']);

interface SeatRow {
  license_id: string;
  role_group: string;
  basis: string;
  paid: number | null;
  allocated: number;
}

/** Syncs and crunches one simulated account, then returns its seat rows by license id. */
async function syncSeats(database: Database, simulator: RunningSimulator): Promise<{ seats: Map<string, SeatRow>; licensesReason: string | null; organizationId: string }> {
  const vault = testVault();
  const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
  const syncRunId = await createQueuedRun(database, connection);
  const deps = testSyncDeps(database, vault, { now: () => NOW, crunch: crunchConnection });
  const outcome = await runSync(deps, { connectionId: connection.connectionId, syncRunId });
  expect(outcome.errorMessage).toBeNull();

  const rows = await database.db
    .selectFrom('seat_summaries')
    .select(['license_id', 'role_group', 'basis', 'paid', 'allocated'])
    .where('connection_id', '=', connection.connectionId)
    .execute();
  const signal = await database.db
    .selectFrom('signal_availability')
    .select('reason')
    .where('connection_id', '=', connection.connectionId)
    .where('signal', '=', 'licenses')
    .executeTakeFirst();
  return { seats: new Map(rows.map((row) => [row.license_id, row])), licensesReason: signal?.reason ?? null, organizationId: connection.organizationId };
}

describe.each(testDatabaseTargets())('seats without licenses on $name', (target) => {
  let database: Database;

  beforeAll(async () => {
    database = await target.open();
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  it.each<[LicenseAccess, RegExp]>([
    ['forbidden', /403/],
    ['absent', /404/],
  ])('groups seats by role when %s', async (access, reasonPattern) => {
    const simulator = await startSimulator({ people: 40, seed: 17, now: NOW, licenseAccess: access, rateLimitPerMinute: 60_000 });
    try {
      const { seats, licensesReason, organizationId } = await syncSeats(database, simulator);
      const users = simulator.generated.users;
      const expectedFull = users.filter((user) => FULL_USER.has(user.role)).length;
      const expectedStakeholder = users.filter((user) => STAKEHOLDER.has(user.role)).length;

      expect(expectedFull).toBeGreaterThan(0);
      expect([...seats.values()].every((row) => row.basis === 'role')).toBe(true);
      expect(seats.get('role:FullUser')?.allocated).toBe(expectedFull);
      expect(seats.get('role:FullUser')?.paid).toBeNull();
      expect(seats.get('role:Stakeholder')?.allocated ?? 0).toBe(expectedStakeholder);
      expect(licensesReason).toMatch(reasonPattern);

      const overview = await presentOverview(database.db, organizationId);
      const expectedStatus = access === 'forbidden' ? 403 : 404;
      expect(overview.seatsByRole?.licenseStatus).toBe(expectedStatus);
      expect(overview.seatsByRole?.note).toBe(`Seats by role: PagerDuty did not allow reading licenses (${expectedStatus}); figures are grouped by each person's role.`);
      expect(overview.totals.allocated).toBe(expectedFull + expectedStakeholder);

      const report = JSON.parse(JSON.stringify(await buildReport(database.db, organizationId, NOW))) as Awaited<ReturnType<typeof buildReport>>;
      expect(report.seatsByRole).toEqual(overview.seatsByRole);
      expect(report.seats.find((seat) => seat.licenseId === 'role:FullUser')?.allocated).toBe(expectedFull);
      expect(report.dataConfidence.licenses?.status).toBe('unavailable');
      expect(report.dataConfidence.licenses?.reason).toMatch(reasonPattern);

      // People carry the role group, marked as derived from the role, in the page and the export.
      const people = await presentPeople(database.db, organizationId, { pageSize: MAX_PAGE_SIZE });
      expect(people.rows.length).toBe(users.length);
      for (const row of people.rows) {
        const user = users.find((candidate) => candidate.id === row.externalId);
        expect(row.seatBasis, row.externalId).toBe('role');
        expect(row.licenseName, row.externalId).toBeNull();
        expect(row.roleGroup, row.externalId).toBe(FULL_USER.has(user?.role ?? '') ? 'FullUser' : 'Stakeholder');
      }
      // The people filters list the people the role seats count.
      expect((await presentPeople(database.db, organizationId, { seat: 'allocated' })).total).toBe(overview.totals.allocated);
      expect((await presentPeople(database.db, organizationId, { license: 'Full User (by role)' })).total).toBe(expectedFull);
      expect((await presentPeople(database.db, organizationId, { license: 'role:Stakeholder' })).total).toBe(expectedStakeholder);
      const firstUser = users[0];
      if (firstUser === undefined) throw new Error('The simulator generated no people');
      expect((await presentPerson(database.db, organizationId, firstUser.id))?.seatBasis).toBe('role');

      const csv = parse((await exportPeopleCsv(database.db, organizationId, {})).csv, { columns: true }) as Array<Record<string, string>>;
      expect(csv.length).toBe(users.length);
      for (const line of csv) {
        const user = users.find((candidate) => candidate.email === line.Email);
        expect(line.License, line.Email).toBe(FULL_USER.has(user?.role ?? '') ? 'Full User (by role)' : 'Stakeholder (by role)');
      }

      // Recommendations take the seat the role needs, and each is flagged for a check in PagerDuty.
      const recommendations = await presentRecommendations(database.db, organizationId);
      expect(recommendations.licensesUnreadable).toBe(true);
      expect(recommendations.rows.length).toBeGreaterThan(0);
      for (const row of recommendations.rows) {
        const user = users.find((candidate) => candidate.id === row.externalId);
        expect(row.licenseName, row.externalId).toBe(FULL_USER.has(user?.role ?? '') ? 'Full User (by role)' : 'Stakeholder (by role)');
        expect(row.status, row.externalId).not.toBe('ready');
        expect(row.guardrails, row.externalId).toContainEqual(expect.objectContaining({ code: 'seat_by_role', severity: 'flag' }));
        expect(row.evidence.seatBasis, row.externalId).toBe('role');
      }
      expect(report.recommendations.length).toBe(recommendations.rows.length);
      for (const recommendation of report.recommendations) expect(recommendation.guardrails.map((guardrail) => guardrail.code)).toContain('seat_by_role');
    } finally {
      await simulator.close();
    }
  });

  it('recommends by role as by license', async () => {
    // The same generated account twice: once with licenses readable and once without. Where the
    // license a person holds is of the seat type their role needs, both find the same change.
    const withLicenses = await startSimulator({ people: 40, seed: 17, now: NOW, rateLimitPerMinute: 60_000 });
    const withoutLicenses = await startSimulator({ people: 40, seed: 17, now: NOW, licenseAccess: 'forbidden', rateLimitPerMinute: 60_000 });
    try {
      const byLicense = await presentRecommendations(database.db, (await syncSeats(database, withLicenses)).organizationId);
      const byRole = await presentRecommendations(database.db, (await syncSeats(database, withoutLicenses)).organizationId);
      const { licenses, users } = withLicenses.generated;
      const isSeatOfRole = (externalId: string) => {
        const user = users.find((candidate) => candidate.id === externalId);
        const license = licenses.find((candidate) => candidate.id === user?.licenseId);
        return license !== undefined && license.roleGroup === (FULL_USER.has(user?.role ?? '') ? 'FullUser' : 'Stakeholder');
      };
      const changes = (rows: typeof byRole.rows) =>
        rows
          .filter((row) => isSeatOfRole(row.externalId))
          .map((row) => `${row.kind}/${row.externalId}`)
          .sort();

      expect(changes(byLicense.rows).length).toBeGreaterThan(0);
      expect(changes(byRole.rows)).toEqual(changes(byLicense.rows));
    } finally {
      await withLicenses.close();
      await withoutLicenses.close();
    }
  });

  it('keeps license seats when readable', async () => {
    const simulator = await startSimulator({ people: 40, seed: 17, now: NOW, rateLimitPerMinute: 60_000 });
    try {
      const { seats, organizationId } = await syncSeats(database, simulator);
      const { licenses, users } = simulator.generated;

      expect((await presentOverview(database.db, organizationId)).seatsByRole).toBeNull();
      expect((await presentRecommendations(database.db, organizationId)).licensesUnreadable).toBe(false);

      const people = await presentPeople(database.db, organizationId, { pageSize: MAX_PAGE_SIZE });
      expect(people.rows.length).toBe(users.length);
      for (const row of people.rows) expect(row.seatBasis, row.externalId).toBe('license');
      const csv = parse((await exportPeopleCsv(database.db, organizationId, {})).csv, { columns: true }) as Array<Record<string, string>>;
      for (const line of csv) {
        const user = users.find((candidate) => candidate.email === line.Email);
        expect(line.License, line.Email).toBe(licenses.find((license) => license.id === user?.licenseId)?.name);
      }

      expect(seats.size).toBe(licenses.length);
      for (const license of licenses) {
        const row = seats.get(license.id);
        expect(row?.basis, license.id).toBe('license');
        expect(row?.allocated, license.id).toBe(users.filter((user) => user.licenseId === license.id).length);
      }
    } finally {
      await simulator.close();
    }
  });
});
