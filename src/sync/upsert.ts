import type { Insertable, Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Inserts `rows` into `table`, replacing every non-key column of rows whose key already exists,
 * so reading a page twice changes nothing. Rows with the same key inside one batch keep the last.
 */
export async function upsertRows<T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  keyColumns: readonly (keyof DB[T] & string)[],
  rows: Insertable<DB[T]>[],
): Promise<void> {
  if (rows.length === 0) return;
  const unique = lastByKey(rows as Record<string, unknown>[], keyColumns);
  const firstRow = unique[0];
  if (!firstRow) return;

  const updateColumns = Object.keys(firstRow).filter((column) => !keyColumns.includes(column as keyof DB[T] & string));
  // Kysely cannot type a table chosen at run time; the row types above keep callers checked.
  const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  await untyped
    .insertInto(table as string)
    .values(unique)
    .onConflict((conflict) => {
      const target = conflict.columns([...keyColumns] as string[]);
      if (updateColumns.length === 0) return target.doNothing();
      return target.doUpdateSet((eb) => Object.fromEntries(updateColumns.map((column) => [column, eb.ref(`excluded.${column}` as never)])) as never);
    })
    .execute();
}

function lastByKey(rows: Record<string, unknown>[], keyColumns: readonly string[]): Record<string, unknown>[] {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const row of rows) byKey.set(JSON.stringify(keyColumns.map((column) => row[column])), row);
  return [...byKey.values()];
}
