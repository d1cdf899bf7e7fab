import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** An arbitrary constant that names Seatwise's migration lock among PostgreSQL advisory locks. */
const MIGRATION_LOCK_KEY = 7_314_560_021;

/**
 * Applies every migration file not yet recorded, in file-name order, each in its own
 * transaction, and returns the names applied. On PostgreSQL an advisory lock makes concurrent
 * processes wait, so the set runs once whichever process starts first.
 */
export async function migrate(database: Database): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort();

  return database.withSession(async (run) => {
    const isPostgres = database.kind === 'postgres';
    if (isPostgres) await run(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      await run(`create table if not exists seatwise_migrations (
        name text primary key,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await run('select name from seatwise_migrations');
      const applied = new Set(rows.map((row) => String(row.name)));

      const newlyApplied: string[] = [];
      for (const file of files) {
        if (applied.has(file)) continue;
        const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
        const record = `insert into seatwise_migrations (name) values ('${file.replaceAll("'", "''")}')`;
        await run(`begin;\n${sql}\n;\n${record};\ncommit;`);
        newlyApplied.push(file);
      }
      return newlyApplied;
    } finally {
      if (isPostgres) await run(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}
