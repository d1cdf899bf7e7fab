/**
 * Writes a deterministic PagerDuty account (licenses, people, log entries, on-call shifts and
 * notifications) straight into the raw tables with set-based SQL over generate_series, for the
 * crunch and dashboard benchmarks. The indexes and primary keys of the large tables are dropped
 * during the load and rebuilt afterwards, because one index build that sorts its input is far
 * faster than millions of index insertions.
 */
import { sql } from 'kysely';
import { createTenant } from '../../src/analytics/testing.ts';
import type { Database } from '../../src/db/database.ts';

export const AS_OF = new Date('2026-06-01T00:00:00Z');
export const HISTORY_DAYS = 365;
/** Tables whose rows grow with the account, so their indexes are rebuilt after the load. */
const BULK_TABLES = ['pd_log_entries', 'pd_notifications', 'pd_oncalls'];

export interface AccountSize {
  people: number;
  logEntries: number;
}

export interface GeneratedAccount {
  organizationId: string;
  connectionId: string;
  /** People in `pd_users`, deleted ones included. */
  people: number;
  logEntries: number;
}

export async function generateAccount(database: Database, size: AccountSize): Promise<GeneratedAccount> {
  const tenant = await createTenant(database.db, 'Bench');
  await withIndexesRebuilt(database, () => insertRows(database, tenant.connectionId, size));
  // The load writes in seconds what a first sync writes over about twenty minutes at PagerDuty's
  // rate limit, while autovacuum visits the new rows and sets their hint bits. Vacuuming the bulk
  // tables here does that work before the crunch is timed, instead of inside its first scan.
  await sql`vacuum (analyze) ${sql.join(BULK_TABLES.map((table) => sql.table(table)))}`.execute(database.db);
  await sql`analyze`.execute(database.db);
  await flushLoad(database);
  const { rows } = await database.query<{ people: number; log_entries: number }>(
    `select (select count(*)::int from pd_users where connection_id = $1) as people,
            (select count(*)::int from pd_log_entries where connection_id = $1) as log_entries`,
    [tenant.connectionId],
  );
  return { ...tenant, people: rows[0]?.people ?? 0, logEntries: rows[0]?.log_entries ?? 0 };
}

/**
 * Runs a checkpoint where the role may (PostgreSQL's `pg_checkpoint` role, or a superuser), so the
 * pages and WAL of the load are written before the crunch is timed, as the routine checkpoints
 * during a twenty-minute sync would have done. Without the privilege the crunch shares the disk
 * with that checkpoint, which slows it, and the benchmark prints a note. PGlite has nothing to flush.
 */
async function flushLoad(database: Database): Promise<void> {
  if (database.kind !== 'postgres') return;
  const { rows } = await database.query<{ role: string; allowed: boolean }>(
    `select current_user as role, pg_has_role(current_user, 'pg_checkpoint', 'member') or (select rolsuper from pg_roles where rolname = current_user) as allowed`,
  );
  const role = rows[0];
  if (role?.allowed === true) {
    await database.query('checkpoint');
    return;
  }
  console.log(`note: role ${role?.role ?? 'unknown'} may not run CHECKPOINT (grant it pg_checkpoint), so the timed crunch shares the disk with the load's checkpoint`);
}

/**
 * Drops the primary keys and indexes of the bulk tables, runs `load`, then recreates them from
 * their catalogued definitions, so a duplicate row still fails when the key is rebuilt.
 */
async function withIndexesRebuilt(database: Database, load: () => Promise<void>): Promise<void> {
  const { rows: keys } = await database.query<{ table_name: string; name: string; definition: string }>(
    `select c.conrelid::regclass::text as table_name, c.conname as name, pg_get_constraintdef(c.oid) as definition
     from pg_constraint c
     where c.contype = 'p' and c.conrelid::regclass::text = any($1::text[])`,
    [BULK_TABLES],
  );
  const { rows: indexes } = await database.query<{ indexname: string; indexdef: string }>(
    `select i.indexname, i.indexdef from pg_indexes i
     where i.schemaname = current_schema() and i.tablename = any($1::text[])
       and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
    [BULK_TABLES],
  );

  for (const index of indexes) await database.query(`drop index ${quoteIdentifier(index.indexname)}`);
  for (const key of keys) await database.query(`alter table ${quoteIdentifier(key.table_name)} drop constraint ${quoteIdentifier(key.name)}`);

  await load();

  for (const key of keys) await database.query(`alter table ${quoteIdentifier(key.table_name)} add constraint ${quoteIdentifier(key.name)} ${key.definition}`);
  for (const index of indexes) await database.query(index.indexdef);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Inserts the account. Four in five people hold a Full User license and one in five a Stakeholder
 * one, and every 211th person is deleted. Log entries spread over `HISTORY_DAYS` before `AS_OF`.
 * Their agents favour low person numbers (a squared uniform draw), so a few people act a lot and
 * many rarely.
 */
async function insertRows(database: Database, connectionId: string, { people, logEntries }: AccountSize): Promise<void> {
  const { db } = database;
  await sql`select setseed(0.42)`.execute(db);

  await sql`
    insert into pd_licenses (connection_id, id, name, role_group, current_value, allocations_available, valid_roles, raw)
    values
      (${connectionId}::uuid, 'LFULL', 'Business (Full User)', 'FullUser', ${Math.ceil(people * 0.8)}, 100, '[]', '{}'),
      (${connectionId}::uuid, 'LSTAKE', 'Business (Stakeholder)', 'Stakeholder', ${Math.floor(people * 0.2)}, null, '[]', '{}')
  `.execute(db);

  await sql`
    insert into pd_users (connection_id, id, name, email, role, invitation_sent, raw, deleted_at)
    select ${connectionId}::uuid, 'P' || n, 'Person ' || n, 'person' || n || '@example.com',
      case when n = 1 then 'owner' when n % 50 = 0 then 'admin' when n % 5 = 0 then 'read_only_user' else 'user' end,
      n % 97 = 0, '{}', case when n % 211 = 0 then timestamptz '2026-03-01' else null end
    from generate_series(1, ${people}) n
  `.execute(db);

  await sql`
    insert into pd_license_allocations (connection_id, user_id, license_id)
    select ${connectionId}::uuid, 'P' || n, case when n % 5 = 0 then 'LSTAKE' else 'LFULL' end
    from generate_series(1, ${people}) n
  `.execute(db);

  await sql`
    insert into pd_log_entries (connection_id, id, type, created_at, agent_type, agent_id, channel_type, incident_id, user_id)
    select ${connectionId}::uuid, 'L' || n,
      (array['trigger_log_entry', 'notify_log_entry', 'acknowledge_log_entry', 'resolve_log_entry', 'annotate_log_entry',
             'assign_log_entry', 'escalate_log_entry', 'snooze_log_entry'])[1 + (n % 8)],
      ${AS_OF}::timestamptz - (random() * ${HISTORY_DAYS} * interval '1 day'),
      case when n % 8 in (0, 1) then 'service_reference' else 'user_reference' end,
      case when n % 8 in (0, 1) then 'PSVC' || (n % 40) else 'P' || (1 + floor(power(random(), 2) * ${people})::int) end,
      (array['website', 'mobile', 'email', 'slack', 'sms', null])[1 + (n % 6)],
      'I' || (n / 6),
      case when n % 8 = 1 then 'P' || (1 + (n % ${people})) else null end
    from generate_series(1, ${logEntries}) n
  `.execute(db);

  await sql`
    insert into pd_oncalls (connection_id, shift_key, user_id, escalation_policy_id, escalation_level, start_at, end_at)
    select ${connectionId}::uuid, 'S' || n, 'P' || (1 + (n % ${people})), 'EP' || (n % 100), 1 + (n % 2),
      ${AS_OF}::timestamptz + ((n % 180) - 120) * interval '1 day', ${AS_OF}::timestamptz + ((n % 180) - 113) * interval '1 day'
    from generate_series(1, ${people * 4}) n
  `.execute(db);

  await sql`
    insert into pd_notifications (connection_id, id, type, started_at, user_id, raw)
    select ${connectionId}::uuid, 'N' || n,
      (array['push_notification', 'sms_notification', 'email_notification', 'phone_notification'])[1 + (n % 4)],
      ${AS_OF}::timestamptz - (random() * 89 * interval '1 day'), 'P' || (1 + (n % ${people})), '{}'
    from generate_series(1, ${Math.floor(logEntries / 10)}) n
  `.execute(db);
}
