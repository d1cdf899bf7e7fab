import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { recomputeActivityDaily, writeFeatureCatalogue } from './activity.ts';
import { crunchConnection } from './crunch.ts';
import { createTenant, insertLogEntries, insertUsers } from './testing.ts';

const DAY = 86_400_000;
const AS_OF = new Date('2026-06-01T12:00:00Z');
/** How long the lock test waits for the crunch to reach its connection lock. */
const LOCK_WAIT_TIMEOUT_MS = 30_000;

/**
 * `activity_daily` has no unique index, so the crunch alone keeps one row per connection, person,
 * feature and day. These tests count rows per key after the crunches that write the table.
 */
describe.each(testDatabaseTargets())('activity fact keys on $name', ({ open }) => {
  let database: Database;

  beforeAll(async () => {
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  async function seedTenant(name: string): Promise<string> {
    const tenant = await createTenant(database.db, name);
    await insertUsers(database.db, tenant.connectionId, [{ id: 'PALICE' }, { id: 'PBOB' }]);
    const entries = [];
    for (let day = 1; day <= 20; day += 1) {
      const createdAt = new Date(AS_OF.getTime() - day * DAY);
      entries.push({ id: `${name}-A${day}`, type: 'acknowledge_log_entry', createdAt, agentId: 'PALICE', channelType: 'mobile' });
      entries.push({ id: `${name}-B${day}`, type: 'resolve_log_entry', createdAt, agentId: 'PBOB', channelType: 'website' });
    }
    await insertLogEntries(database.db, tenant.connectionId, entries);
    return tenant.connectionId;
  }

  async function countRows(connectionId: string): Promise<{ rows: number; keys: number }> {
    const result = await sql<{ rows: number; keys: number }>`
      select count(*)::int as rows,
        (select count(*)::int from (select distinct external_id, feature_key, day from activity_daily where connection_id = ${connectionId}::uuid) k) as keys
      from activity_daily where connection_id = ${connectionId}::uuid
    `.execute(database.db);
    return result.rows[0] ?? { rows: 0, keys: 0 };
  }

  it('repeated and incremental crunches keep keys unique', async () => {
    const connectionId = await seedTenant('Repeat');
    await crunchConnection(database.db, connectionId, AS_OF);
    const first = await countRows(connectionId);
    expect(first.rows).toBeGreaterThan(0);

    // A new event on a day that already has facts, and one on a new day.
    await insertLogEntries(database.db, connectionId, [
      { id: 'Repeat-A1-again', type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() - DAY + 60_000), agentId: 'PALICE', channelType: 'mobile' },
      { id: 'Repeat-new-day', type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() - 60_000), agentId: 'PBOB', channelType: 'mobile' },
    ]);
    await crunchConnection(database.db, connectionId, AS_OF, { changedSince: new Date(AS_OF.getTime() - 2 * DAY) });
    await crunchConnection(database.db, connectionId, AS_OF);

    const after = await countRows(connectionId);
    expect(after.rows).toBe(after.keys);
    expect(after.keys).toBeGreaterThan(first.keys);
  });

  it('concurrent crunches write each key once', async () => {
    const connectionId = await seedTenant('Concurrent');

    await Promise.all([crunchConnection(database.db, connectionId, AS_OF), crunchConnection(database.db, connectionId, AS_OF)]);

    const counted = await countRows(connectionId);
    expect(counted.rows).toBeGreaterThan(0);
    expect(counted.rows).toBe(counted.keys);
  });
});

/** Locks between crunches need a server with several connections, so these run on PostgreSQL only. */
describe.each(testDatabaseTargets().filter((target) => target.name === 'PostgreSQL'))('crunch locks on $name', ({ open }) => {
  let database: Database;

  beforeAll(async () => {
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  async function seedTenant(name: string): Promise<{ organizationId: string; connectionId: string }> {
    const tenant = await createTenant(database.db, name);
    await insertUsers(database.db, tenant.connectionId, [{ id: 'PALICE' }]);
    await insertLogEntries(database.db, tenant.connectionId, [
      { id: `${name}-1`, type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() - DAY), agentId: 'PALICE', channelType: 'mobile' },
    ]);
    return tenant;
  }

  /**
   * Waits until another session requests the advisory lock `key` and PostgreSQL makes it wait, or
   * until `hasFinished` returns true because the session got past the lock without waiting.
   */
  async function waitForLockWaiter(key: string, hasFinished: () => boolean): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_TIMEOUT_MS;
    for (;;) {
      // A one-key advisory lock shows its 64-bit key split into classid (high half) and objid.
      const { rows } = await sql<{ waiting: boolean }>`
        select exists (
          select 1 from pg_locks
          where locktype = 'advisory' and not granted and objsubid = 1
            and database = (select oid from pg_database where datname = current_database())
            and ((classid::bigint << 32) | objid::bigint) = hashtext(${key})::bigint
        ) as waiting
      `.execute(database.db);
      if (rows[0]?.waiting === true || hasFinished()) return;
      if (Date.now() > deadline) throw new Error(`Timed out after ${LOCK_WAIT_TIMEOUT_MS} ms waiting for a session to wait on the advisory lock ${key}`);
      await sleep(50);
    }
  }

  it('crunch waits for its connection lock', async () => {
    const tenant = await seedTenant('Waiting');
    const lockKey = `seatwise.crunch:${tenant.connectionId}`;
    let isFinished = false;

    // The running crunch is wrapped in an object, because a returned promise would make the
    // transaction wait for the crunch that waits for the transaction's lock.
    const { running } = await database.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(trx);
      const running = crunchConnection(database.db, tenant.connectionId, AS_OF).then(() => {
        isFinished = true;
      });
      // The crunch must be seen blocked on the lock. A fixed pause could end before a slow
      // machine got the crunch that far, and the test would pass without a wait to check.
      await waitForLockWaiter(lockKey, () => isFinished);
      expect(isFinished).toBe(false);
      return { running };
    });
    await running;

    expect(isFinished).toBe(true);
  });

  it('crunches of other connections run alongside', async () => {
    const busy = await seedTenant('Busy');
    const other = await seedTenant('Other');
    // The first crunch writes the feature catalogue, as on any server that crunched before.
    await crunchConnection(database.db, busy.connectionId, AS_OF);

    await database.db.transaction().execute(async (trx) => {
      // The first steps of a crunch of Busy, left uncommitted while Other is crunched.
      await writeFeatureCatalogue(trx);
      await recomputeActivityDaily(trx, { ...busy, asOf: AS_OF }, undefined);
      const controller = new AbortController();
      const timeout = sleep(15_000, 'still waiting' as const, { signal: controller.signal }).catch(() => 'aborted' as const);
      const outcome = await Promise.race([crunchConnection(database.db, other.connectionId, AS_OF).then(() => 'finished' as const), timeout]);
      controller.abort();
      expect(outcome).toBe('finished');
    });

    const rows = await sql<{ count: number }>`select count(*)::int as count from people where connection_id = ${other.connectionId}::uuid`.execute(database.db);
    expect(rows.rows[0]?.count).toBe(1);
  });
});
