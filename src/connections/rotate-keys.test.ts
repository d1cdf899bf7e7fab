import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { readCredentials, saveCredentials } from './credentials.ts';
import { rotateKeys } from './rotate-keys.ts';
import { Vault } from './vault.ts';

describe.each(testDatabaseTargets())('key rotation on $name', ({ open }) => {
  const opened: Database[] = [];
  afterAll(async () => {
    for (const database of opened) await database.close();
  });

  it('reseals credentials under new key', async () => {
    const database = await open();
    opened.push(database);
    await migrate(database);
    const { db } = database;
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const oldVault = new Vault([oldKey]);

    const organization = await db.insertInto('organizations').values({ name: 'Acme' }).returning('id').executeTakeFirstOrThrow();
    const connection = await db
      .insertInto('connections')
      .values({ organization_id: organization.id, provider: 'pagerduty', method: 'oauth_classic', status: 'connected', api_base_url: 'https://api.pagerduty.com' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await saveCredentials(db, oldVault, connection.id, { accessToken: 'pdus+_0access', refreshToken: 'pdus+_1refresh', accessTokenExpiresAt: null });

    const rotatingVault = new Vault([newKey, oldKey]);
    const counts = await rotateKeys(db, rotatingVault);
    expect(counts.connectionCredentials).toBe(1);

    const row = await db.selectFrom('connection_credentials').select('key_id').executeTakeFirstOrThrow();
    expect(row.key_id).toBe(rotatingVault.currentKeyId);
    const reopened = await readCredentials(db, new Vault([newKey]), connection.id);
    expect(reopened).toMatchObject({ accessToken: 'pdus+_0access', refreshToken: 'pdus+_1refresh' });
    expect((await rotateKeys(db, rotatingVault)).connectionCredentials).toBe(0);
  });
});
