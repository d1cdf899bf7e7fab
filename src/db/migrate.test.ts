import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';

describe.each(testDatabaseTargets())('migrations on $name', ({ open }) => {
  const opened: Database[] = [];
  afterAll(async () => {
    for (const database of opened) await database.close();
  });

  it('applies every file once', async () => {
    const database = await open();
    opened.push(database);

    const first = await migrate(database);
    const second = await migrate(database);

    expect(first).toContain('0001_initial.sql');
    expect(second).toEqual([]);
    const { rows } = await database.query<{ count: number }>('select count(*)::int as count from organizations');
    expect(rows[0]?.count).toBe(0);
  });

  it('serialises concurrent transactions', async () => {
    const database = await open();
    opened.push(database);
    await migrate(database);
    const { db } = database;

    const org = await db.insertInto('organizations').values({ name: 'Acme' }).returning('id').executeTakeFirstOrThrow();
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        db.transaction().execute(async (trx) => {
          const user = await trx
            .insertInto('users')
            .values({ email: `u${index}@example.com`, name: `U${index}`, password_hash: 'x' })
            .returning('id')
            .executeTakeFirstOrThrow();
          await trx.insertInto('memberships').values({ organization_id: org.id, user_id: user.id, role: 'member' }).execute();
        }),
      ),
    );
    const count = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    expect(Number(count.count)).toBe(20);
  });
});
