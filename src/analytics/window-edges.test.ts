import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from './crunch.ts';
import { daysBefore } from './scope.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers } from './testing.ts';

// A time of day that puts every window start in the middle of a UTC day.
const AS_OF = new Date('2026-05-20T15:00:00Z');
const SECOND = 1000;
const HOUR = 3_600_000;

describe.each(testDatabaseTargets())('feature counts at window edges on $name', ({ open }) => {
  let database: Database;
  let tenant: { organizationId: string; connectionId: string };

  const countsOf = async (personId: string, featureKey: string) =>
    database.db
      .selectFrom('person_features')
      .select(['count_30d', 'count_60d', 'count_90d'])
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', personId)
      .where('feature_key', '=', featureKey)
      .executeTakeFirst();

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    tenant = await createTenant(database.db, 'Edges');
    await insertLicenses(database.db, tenant.connectionId, [{ id: 'LFULL', name: 'Business (Full User)', roleGroup: 'FullUser', currentValue: 2, allocationsAvailable: 0 }]);
    await insertUsers(database.db, tenant.connectionId, [
      { id: 'PEDGE', licenseId: 'LFULL' },
      { id: 'PSHIFT', licenseId: 'LFULL' },
    ]);

    // On the first day of each window: one entry a second before its start, one at it, one after.
    const entries = [30, 60, 90].flatMap((days) => {
      const start = daysBefore(AS_OF, days).getTime();
      return [
        { id: `E${days}-before`, at: start - SECOND },
        { id: `E${days}-at`, at: start },
        { id: `E${days}-after`, at: start + 2 * HOUR },
      ];
    });
    await insertLogEntries(
      database.db,
      tenant.connectionId,
      entries.map((entry) => ({ id: entry.id, type: 'acknowledge_log_entry', createdAt: new Date(entry.at), agentId: 'PEDGE', channelType: 'website' })),
    );
    await crunchConnection(database.db, tenant.connectionId, AS_OF);
  });

  afterAll(async () => {
    await database?.close();
  });

  it('counts entries from each window start', async () => {
    const counts = await countsOf('PEDGE', 'incident_acknowledge');
    // Each window contains the two entries from its own start on and all three around each shorter window's start.
    expect(counts?.count_30d).toBe(2);
    expect(counts?.count_60d).toBe(2 + 3);
    expect(counts?.count_90d).toBe(2 + 3 + 3);
  });

  it('counts a shift that started since the last crunch', async () => {
    const shiftStart = new Date(AS_OF.getTime() + 2 * HOUR);
    await database.db
      .insertInto('pd_oncalls')
      .values({ connection_id: tenant.connectionId, shift_key: 'EP1|1|S1|PSHIFT|next', user_id: 'PSHIFT', escalation_policy_id: 'EP1', escalation_level: 1, schedule_id: 'S1', start_at: shiftStart, end_at: new Date(shiftStart.getTime() + 24 * HOUR) })
      .execute();
    await crunchConnection(database.db, tenant.connectionId, AS_OF);
    expect(await countsOf('PSHIFT', 'oncall_shift')).toBeUndefined();

    // The next sync, on the next UTC day, changed nothing before its own start, yet the shift
    // started in between.
    const later = new Date(AS_OF.getTime() + 12 * HOUR);
    await crunchConnection(database.db, tenant.connectionId, later, { changedSince: new Date(later.getTime() - HOUR) });
    const counts = await countsOf('PSHIFT', 'oncall_shift');
    expect(counts?.count_30d).toBe(1);
    expect(counts?.count_90d).toBe(1);
    const facts = await database.db
      .selectFrom('activity_daily')
      .select(['day', 'event_count'])
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', 'PSHIFT')
      .execute();
    expect(facts.map((fact) => fact.event_count)).toEqual([1]);
  });

  it('counts the week of a passed shift', async () => {
    // Sunday 2026-05-24 22:00 UTC: the shift starts an hour later, still on Sunday, and the next
    // crunch runs on Monday with a sync that changed nothing before Monday.
    const sunday = new Date('2026-05-24T22:00:00Z');
    const shiftStart = new Date(sunday.getTime() + HOUR);
    await database.db
      .insertInto('pd_oncalls')
      .values({ connection_id: tenant.connectionId, shift_key: 'EP1|1|S1|PSUNDAY|sunday', user_id: 'PSUNDAY', escalation_policy_id: 'EP1', escalation_level: 1, schedule_id: 'S1', start_at: shiftStart, end_at: new Date(shiftStart.getTime() + 24 * HOUR) })
      .execute();
    await crunchConnection(database.db, tenant.connectionId, sunday);

    const monday = new Date('2026-05-25T06:00:00Z');
    await crunchConnection(database.db, tenant.connectionId, monday, { changedSince: new Date('2026-05-25T05:00:00Z') });
    const weeks = await database.db
      .selectFrom('person_active_weeks')
      .select(sql<string[]>`week_starts::text[]`.as('week_starts'))
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', 'PSUNDAY')
      .execute();
    expect(weeks.map((row) => row.week_starts)).toEqual([['2026-05-18']]);
  });
});
