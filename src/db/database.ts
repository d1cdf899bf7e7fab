import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { acquireDataFolderLock } from './data-folder-lock.ts';
import { Mutex } from './mutex.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { DB } from './schema.ts';

// Return int8 (count(*), sum()) as JavaScript numbers; Seatwise's counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number.parseFloat(value));

export type DatabaseKind = 'pglite' | 'postgres';

/** The folder inside a data folder that contains PGlite's database files. */
export const PGLITE_FOLDER_NAME = 'pgdata';

/** The one database a Seatwise process uses: PGlite in the data folder, or PostgreSQL. */
export interface Database {
  kind: DatabaseKind;
  db: Kysely<DB>;
  /** Runs a whole SQL script (several statements, no parameters). */
  execScript(sql: string): Promise<void>;
  /** Runs one statement with parameters; pg-boss and the migration lock use it. */
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>;
  /**
   * Runs `task` on one dedicated connection, so session state such as an advisory lock holds
   * across its statements. `run` accepts a script or one statement without parameters.
   */
  withSession<T>(task: (run: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | 'memory' };

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  switch (target.kind) {
    case 'postgres':
      return openPostgres(target.url);
    case 'pglite':
      return openPGlite(target.dataDir);
    default: {
      const unreachable: never = target;
      throw new Error(`Unknown database target ${JSON.stringify(unreachable)}`);
    }
  }
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    async execScript(sql) {
      await pool.query(sql);
    },
    async query(sql, values) {
      const result = await pool.query(sql, values as unknown[] | undefined);
      return { rows: result.rows };
    },
    async withSession(task) {
      const client = await pool.connect();
      try {
        return await task(async (sql) => {
          const result = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
          const last = Array.isArray(result) ? result.at(-1) : result;
          return { rows: last?.rows ?? [] };
        });
      } finally {
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPGlite(dataDir: string | 'memory'): Promise<Database> {
  let pglite: PGlite;
  let releaseLock = () => {};
  if (dataDir === 'memory') {
    pglite = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    releaseLock = acquireDataFolderLock(dataDir);
    pglite = new PGlite(join(dataDir, PGLITE_FOLDER_NAME));
  }
  try {
    await pglite.waitReady;
  } catch (error) {
    releaseLock();
    throw error;
  }

  const mutex = new Mutex();
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite, mutex) });
  return {
    kind: 'pglite',
    db,
    async execScript(sql) {
      await mutex.run(() => pglite.exec(sql));
    },
    async query(sql, values) {
      // PGlite's extended protocol takes one statement; multi-statement SQL without
      // parameters (pg-boss sends some) goes through exec(), which returns the last result.
      if ((values === undefined || values.length === 0) && hasSeveralStatements(sql)) {
        const results = await mutex.run(() => pglite.exec(sql));
        const last = results.at(-1);
        return { rows: (last?.rows ?? []) as never[] };
      }
      const result = await mutex.run(() => pglite.query(sql, values as unknown[] | undefined));
      return { rows: result.rows as never[] };
    },
    async withSession(task) {
      return mutex.run(() =>
        task(async (sql) => {
          const results = await pglite.exec(sql);
          return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
        }),
      );
    },
    async close() {
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        releaseLock();
      }
    },
  };
}

function hasSeveralStatements(sql: string): boolean {
  const trimmed = sql.trim().replace(/;\s*$/, '');
  return trimmed.includes(';');
}
