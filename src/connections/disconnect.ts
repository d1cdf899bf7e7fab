import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { deleteCredentials } from './credentials.ts';
import { markDisconnected } from './repository.ts';

/** Tables whose rows belong to a connection but are kept on disconnect whatever the choice. */
const ALWAYS_KEPT_TABLES = new Set(['connections', 'connection_credentials']);

/**
 * Disconnects: deletes the tokens and marks the connection disconnected. With `keepData` false
 * it also deletes every synced row, found as every table with a `connection_id` column, so
 * tables added later are covered without a change here.
 */
export async function disconnectConnection(
  db: Kysely<DB>,
  connection: { organizationId: string; id: string },
  options: { keepData: boolean; reason: string },
): Promise<{ deletedTables: string[] }> {
  return db.transaction().execute(async (trx) => {
    await deleteCredentials(trx, connection.id);
    await markDisconnected(trx, connection.organizationId, connection.id, options.reason);
    if (options.keepData) return { deletedTables: [] };

    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.columns
      where table_schema = current_schema() and column_name = 'connection_id'
      order by table_name`.execute(trx);
    const tables = rows.map((row) => row.table_name).filter((table) => !ALWAYS_KEPT_TABLES.has(table));
    for (const table of tables) {
      await sql`delete from ${sql.table(table)} where connection_id = ${connection.id}`.execute(trx);
    }
    return { deletedTables: tables };
  });
}
