import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import type { DB } from '../db/schema.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from './crunch.ts';
import { createTenant, insertUsers } from './testing.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const LATEST_SYNC = new Date(AS_OF.getTime() - HOUR_MS);
const FEATURE_KEY = 'escalation_policy_member';

function daysAgo(days: number): Date {
  return new Date(AS_OF.getTime() - days * DAY_MS);
}

interface PolicySeed {
  id: string;
  syncedAt: Date;
  deletedAt?: Date;
  /** Targets of each rule, as `user_reference` or `schedule_reference` ids. */
  rules: Array<Array<{ type: 'user_reference' | 'schedule_reference'; id: string }>>;
  /** Whether the target rows are gone, as after the sync that found the policy deleted. */
  hasTargetRows: boolean;
}

async function insertPolicy(db: Kysely<DB>, connectionId: string, policy: PolicySeed): Promise<void> {
  const raw = { id: policy.id, name: policy.id, escalation_rules: policy.rules.map((targets, position) => ({ id: `${policy.id}R${position}`, targets })) };
  await db
    .insertInto('pd_escalation_policies')
    .values({ connection_id: connectionId, id: policy.id, name: policy.id, description: null, num_loops: null, raw: JSON.stringify(raw), synced_at: policy.syncedAt, deleted_at: policy.deletedAt ?? null })
    .execute();
  if (!policy.hasTargetRows) return;
  const targets = policy.rules.flatMap((targets, position) =>
    targets.map((target) => ({
      connection_id: connectionId,
      escalation_policy_id: policy.id,
      rule_position: position,
      rule_id: `${policy.id}R${position}`,
      target_type: target.type,
      target_id: target.id,
      escalation_delay_in_minutes: 30,
      synced_at: policy.syncedAt,
    })),
  );
  await db.insertInto('pd_escalation_targets').values(targets).execute();
}

async function insertSchedule(db: Kysely<DB>, connectionId: string, scheduleId: string, userIds: string[], syncedAt: Date): Promise<void> {
  await db
    .insertInto('pd_schedules')
    .values({ connection_id: connectionId, id: scheduleId, name: scheduleId, description: null, time_zone: 'UTC', raw: JSON.stringify({ id: scheduleId }), synced_at: syncedAt, deleted_at: null })
    .execute();
  await db
    .insertInto('pd_schedule_layer_users')
    .values(userIds.map((userId, position) => ({ connection_id: connectionId, schedule_id: scheduleId, layer_id: `${scheduleId}L`, position, user_id: userId, synced_at: syncedAt })))
    .execute();
}

describe.each(testDatabaseTargets())('escalation policy membership on $name', ({ open }) => {
  let database: Database;
  let tenant: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    database = await open();
    await migrate(database);
    const { db } = database;
    tenant = await createTenant(db, 'Acme');
    const { connectionId } = tenant;

    await insertUsers(db, connectionId, [{ id: 'PALICE' }, { id: 'PBOB' }, { id: 'PGONE', deletedAt: daysAgo(44) }]);
    await db.updateTable('pd_users').set({ synced_at: LATEST_SYNC }).where('connection_id', '=', connectionId).execute();
    await db.updateTable('pd_users').set({ synced_at: daysAgo(45) }).where('connection_id', '=', connectionId).where('id', '=', 'PGONE').execute();

    await insertSchedule(db, connectionId, 'PSCHED', ['PALICE', 'PBOB', 'PALICE'], LATEST_SYNC);
    // Alice is on PPRIMARY twice, directly and through the schedule, and Bob through the schedule.
    await insertPolicy(db, connectionId, {
      id: 'PPRIMARY',
      syncedAt: LATEST_SYNC,
      rules: [[{ type: 'user_reference', id: 'PALICE' }], [{ type: 'schedule_reference', id: 'PSCHED' }]],
      hasTargetRows: true,
    });
    // A person deleted 44 days ago still targeted by a policy the latest sync read.
    await insertPolicy(db, connectionId, {
      id: 'PSECOND',
      syncedAt: LATEST_SYNC,
      rules: [[{ type: 'user_reference', id: 'PGONE' }, { type: 'user_reference', id: 'PBOB' }]],
      hasTargetRows: true,
    });
    // Policies deleted since their last read 40 and 100 days ago, whose target rows the sync dropped.
    // PANCIENT reaches both people through the schedule, but its last read is older than every window.
    await insertPolicy(db, connectionId, {
      id: 'PRETIRED',
      syncedAt: daysAgo(40),
      deletedAt: daysAgo(39),
      rules: [[{ type: 'user_reference', id: 'PALICE' }]],
      hasTargetRows: false,
    });
    await insertPolicy(db, connectionId, {
      id: 'PANCIENT',
      syncedAt: daysAgo(100),
      deletedAt: daysAgo(99),
      rules: [[{ type: 'schedule_reference', id: 'PSCHED' }]],
      hasTargetRows: false,
    });

    await crunchConnection(db, connectionId, AS_OF);
  });

  afterAll(async () => {
    await database?.close();
  });

  async function membershipOf(personId: string) {
    const row = await database.db
      .selectFrom('person_features')
      .select(['first_used_at', 'last_used_at', 'count_30d', 'count_60d', 'count_90d'])
      .where('connection_id', '=', tenant.connectionId)
      .where('external_id', '=', personId)
      .where('feature_key', '=', FEATURE_KEY)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      firstUsedAt: new Date(row.first_used_at).toISOString(),
      lastUsedAt: new Date(row.last_used_at).toISOString(),
      counts: [row.count_30d, row.count_60d, row.count_90d],
    };
  }

  it('counts each policy once per window', async () => {
    expect(await membershipOf('PALICE')).toEqual({ firstUsedAt: daysAgo(100).toISOString(), lastUsedAt: LATEST_SYNC.toISOString(), counts: [1, 2, 2] });
  });

  it('counts membership through schedules', async () => {
    expect(await membershipOf('PBOB')).toEqual({ firstUsedAt: daysAgo(100).toISOString(), lastUsedAt: LATEST_SYNC.toISOString(), counts: [2, 2, 2] });
  });

  it('stops deleted person at last read', async () => {
    expect(await membershipOf('PGONE')).toEqual({ firstUsedAt: daysAgo(45).toISOString(), lastUsedAt: daysAgo(45).toISOString(), counts: [0, 1, 1] });
  });

  it('leaves last activity unchanged', async () => {
    const people = await database.db
      .selectFrom('people')
      .select(['external_id', 'last_activity_at', 'last_activity_signal', 'escalation_policy_ids'])
      .where('connection_id', '=', tenant.connectionId)
      .orderBy('external_id')
      .execute();
    for (const person of people) {
      expect(person.last_activity_at, person.external_id).toBeNull();
      expect(person.last_activity_signal, person.external_id).toBeNull();
    }
    expect(people.find((person) => person.external_id === 'PALICE')?.escalation_policy_ids).toEqual(['PPRIMARY']);
  });

  it('moves windows on later crunch', async () => {
    // A crunch 35 days later with no new records: the latest sync has left the 30-day window.
    const later = new Date(AS_OF.getTime() + 35 * DAY_MS);
    await crunchConnection(database.db, tenant.connectionId, later, { changedSince: later });
    expect(await membershipOf('PALICE')).toEqual({ firstUsedAt: daysAgo(100).toISOString(), lastUsedAt: LATEST_SYNC.toISOString(), counts: [0, 1, 2] });
    expect(await membershipOf('PBOB')).toEqual({ firstUsedAt: daysAgo(100).toISOString(), lastUsedAt: LATEST_SYNC.toISOString(), counts: [0, 2, 2] });
  });
});
