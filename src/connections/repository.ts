import { sql, type Kysely, type Transaction } from 'kysely';
import type { ConnectionMethod, ConnectionStatus, DB } from '../db/schema.ts';
import { deleteCredentials } from './credentials.ts';

/** The provider key of PagerDuty connections. */
export const PAGERDUTY_PROVIDER = 'pagerduty';

/** A connection as the server reads it; credentials live in their own table. */
export interface Connection {
  id: string;
  organizationId: string;
  method: ConnectionMethod;
  status: ConnectionStatus;
  statusReason: string | null;
  statusChangedAt: Date;
  accountId: string | null;
  subdomain: string | null;
  region: string | null;
  apiBaseUrl: string;
  grantedScope: string | null;
  delegationId: string | null;
  connectedByUserId: string | null;
  providerUser: { id: string | null; name: string | null; email: string | null; role: string | null };
  lastSyncAt: Date | null;
  /** When the current account was connected; unlike `statusChangedAt`, a lost token does not move it. */
  connectedAt: Date;
  createdAt: Date;
}

type Executor = Kysely<DB> | Transaction<DB>;

const CONNECTION_COLUMNS = [
  'id',
  'organization_id',
  'method',
  'status',
  'status_reason',
  'status_changed_at',
  'account_id',
  'subdomain',
  'region',
  'api_base_url',
  'granted_scope',
  'delegation_id',
  'connected_by_user_id',
  'provider_user_id',
  'provider_user_name',
  'provider_user_email',
  'provider_user_role',
  'last_sync_at',
  'connected_at',
  'created_at',
] as const;

/**
 * Reads the live PagerDuty connection of one organization, or null when it never connected.
 * Archived connections, left behind by a switch to another account, are never returned.
 */
export async function findPagerDutyConnection(db: Executor, organizationId: string): Promise<Connection | null> {
  const row = await db
    .selectFrom('connections')
    .select(CONNECTION_COLUMNS)
    .where('organization_id', '=', organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .where('archived_at', 'is', null)
    .executeTakeFirst();
  return row ? toConnection(row) : null;
}

export interface ConnectedAccount {
  organizationId: string;
  method: ConnectionMethod;
  /** Null for API keys, which do not reveal the account id. */
  accountId: string | null;
  subdomain: string | null;
  region: string;
  apiBaseUrl: string;
  grantedScope: string;
  delegationId: string | null;
  connectedByUserId: string | null;
  providerUser: { id: string; name: string; email: string; role: string } | null;
  /** The reason the connection reads less than an admin's token would, or null. */
  statusReason: string | null;
}

/**
 * Creates or replaces the organization's live PagerDuty connection as `connected`, connected now.
 * A reconnect keeps the row's id, so synced history stays attached to it.
 */
export async function upsertPagerDutyConnection(db: Executor, account: ConnectedAccount, now = new Date()): Promise<string> {
  const values = {
    method: account.method,
    status: 'connected' as const,
    status_reason: account.statusReason,
    status_changed_at: now,
    connected_at: now,
    account_id: account.accountId,
    subdomain: account.subdomain,
    region: account.region,
    api_base_url: account.apiBaseUrl,
    granted_scope: account.grantedScope,
    delegation_id: account.delegationId,
    connected_by_user_id: account.connectedByUserId,
    provider_user_id: account.providerUser?.id ?? null,
    provider_user_name: account.providerUser?.name ?? null,
    provider_user_email: account.providerUser?.email ?? null,
    provider_user_role: account.providerUser?.role ?? null,
    updated_at: now,
  };
  const row = await db
    .insertInto('connections')
    .values({ ...values, organization_id: account.organizationId, provider: PAGERDUTY_PROVIDER })
    // The unique index is partial (archived rows excluded), so the conflict target repeats its predicate.
    .onConflict((conflict) => conflict.columns(['organization_id', 'provider']).where('archived_at', 'is', null).doUpdateSet(values))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Marks a connection disconnected; its credentials are deleted separately. */
export async function markDisconnected(db: Executor, organizationId: string, connectionId: string, reason: string, now = new Date()): Promise<void> {
  await db
    .updateTable('connections')
    .set({ status: 'disconnected', status_reason: reason, status_changed_at: now, updated_at: now })
    .where('organization_id', '=', organizationId)
    .where('id', '=', connectionId)
    .execute();
}

/**
 * Archives a connection when the organization switches to another account: deletes its tokens,
 * marks it disconnected and archived, and keeps every synced row. Archived connections are
 * outside the live unique index and left out of dashboard queries (see `liveConnectionIds`).
 */
export async function archiveConnection(db: Transaction<DB>, connection: { organizationId: string; id: string }, reason: string, now = new Date()): Promise<void> {
  await deleteCredentials(db, connection.id);
  await db
    .updateTable('connections')
    .set({ status: 'disconnected', status_reason: reason, status_changed_at: now, archived_at: now, updated_at: now })
    .where('organization_id', '=', connection.organizationId)
    .where('id', '=', connection.id)
    .execute();
}

/**
 * Selects the ids of an organization's connections that are not archived. Every dashboard query
 * filters its rows by it, so an archived account's data never mixes with the current one's.
 */
export function liveConnectionIds(db: Executor, organizationId: string) {
  return db.selectFrom('connections').select('connections.id').where('connections.organization_id', '=', organizationId).where('connections.archived_at', 'is', null);
}

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

function toConnection(row: {
  id: string;
  organization_id: string;
  method: ConnectionMethod;
  status: ConnectionStatus;
  status_reason: string | null;
  status_changed_at: Date;
  account_id: string | null;
  subdomain: string | null;
  region: string | null;
  api_base_url: string;
  granted_scope: string | null;
  delegation_id: string | null;
  connected_by_user_id: string | null;
  provider_user_id: string | null;
  provider_user_name: string | null;
  provider_user_email: string | null;
  provider_user_role: string | null;
  last_sync_at: Date | null;
  connected_at: Date;
  created_at: Date;
}): Connection {
  return {
    id: row.id,
    organizationId: row.organization_id,
    method: row.method,
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at,
    accountId: row.account_id,
    subdomain: row.subdomain,
    region: row.region,
    apiBaseUrl: row.api_base_url,
    grantedScope: row.granted_scope,
    delegationId: row.delegation_id,
    connectedByUserId: row.connected_by_user_id,
    providerUser: { id: row.provider_user_id, name: row.provider_user_name, email: row.provider_user_email, role: row.provider_user_role },
    lastSyncAt: row.last_sync_at,
    connectedAt: row.connected_at,
    createdAt: row.created_at,
  };
}
