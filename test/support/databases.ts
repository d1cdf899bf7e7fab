import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.ts';

export interface TestDatabaseTarget {
  name: string;
  /** Opens a new, empty database of this kind. */
  open(): Promise<Database>;
}

/**
 * PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). Each `open()` on
 * PostgreSQL creates a fresh database with a random name, dropped by nothing: CI machines are new.
 */
export function testDatabaseTargets(): TestDatabaseTarget[] {
  const targets: TestDatabaseTarget[] = [{ name: 'PGlite', open: () => openDatabase({ kind: 'pglite', dataDir: 'memory' }) }];
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl) {
    targets.push({ name: 'PostgreSQL', open: async () => openDatabase({ kind: 'postgres', url: await createScratchDatabase(adminUrl) }) });
  }
  return targets;
}

/** Creates an empty database on the server of `adminUrl` and returns its URL. */
export async function createScratchDatabase(adminUrl: string): Promise<string> {
  const name = `seatwise_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
