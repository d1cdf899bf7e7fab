import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { disconnectConnection } from '../connections/repository.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from './crunch.ts';
import { createTenant, insertLogEntries, insertUsers } from './testing.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');

/**
 * `activity_daily` has no foreign keys, so the crunch inserts its rows without a check per row.
 * These tests pin down that deleting a connection, an organization or a disconnect's synced data
 * still deletes the activity facts, as the former ON DELETE CASCADE did.
 */
describe.each(testDatabaseTargets())('activity facts deletion on $name', ({ open }) => {
  const opened: Database[] = [];
  let database: Database;
  let acme: { organizationId: string; connectionId: string };
  let globex: { organizationId: string; connectionId: string };

  beforeEach(async () => {
    database = await open();
    opened.push(database);
    await migrate(database);
    const { db } = database;
    acme = await createTenant(db, 'Acme');
    globex = await createTenant(db, 'Globex');
    for (const tenant of [acme, globex]) {
      await insertUsers(db, tenant.connectionId, [{ id: 'PUSER' }]);
      await insertLogEntries(db, tenant.connectionId, [
        { id: 'E1', type: 'acknowledge_log_entry', createdAt: new Date('2026-05-30T10:00:00Z'), agentId: 'PUSER', channelType: 'mobile' },
        { id: 'E2', type: 'resolve_log_entry', createdAt: new Date('2026-05-31T10:00:00Z'), agentId: 'PUSER', channelType: 'website' },
      ]);
      await crunchConnection(db, tenant.connectionId, AS_OF);
    }
    expect(await countActivity(acme.connectionId)).toBeGreaterThan(0);
    expect(await countActivity(globex.connectionId)).toBeGreaterThan(0);
  });

  afterAll(async () => {
    for (const opening of opened) await opening.close();
  });

  async function countActivity(connectionId: string): Promise<number> {
    const row = await database.db
      .selectFrom('activity_daily')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('connection_id', '=', connectionId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  it('deleting a connection deletes its facts', async () => {
    await database.db.deleteFrom('connections').where('id', '=', acme.connectionId).execute();

    expect(await countActivity(acme.connectionId)).toBe(0);
    expect(await countActivity(globex.connectionId)).toBeGreaterThan(0);
  });

  it('deleting an organization deletes its facts', async () => {
    await database.db.deleteFrom('organizations').where('id', '=', globex.organizationId).execute();

    expect(await countActivity(globex.connectionId)).toBe(0);
    expect(await countActivity(acme.connectionId)).toBeGreaterThan(0);
  });

  it('disconnect without keeping data deletes facts', async () => {
    const result = await disconnectConnection(database.db, { organizationId: acme.organizationId, id: acme.connectionId }, { keepData: false, reason: 'test' });

    expect(result.deletedTables).toContain('activity_daily');
    expect(await countActivity(acme.connectionId)).toBe(0);
    expect(await countActivity(globex.connectionId)).toBeGreaterThan(0);
  });

  it('disconnect keeping data keeps facts', async () => {
    const before = await countActivity(acme.connectionId);

    await disconnectConnection(database.db, { organizationId: acme.organizationId, id: acme.connectionId }, { keepData: true, reason: 'test' });

    expect(await countActivity(acme.connectionId)).toBe(before);
  });
});
