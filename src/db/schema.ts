import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables in src/db/migrations; keep both in step. */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  support_email: string | null;
  created_at: CreatedAt;
}

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface UsersTable {
  id: Generated<string>;
  organization_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  created_at: CreatedAt;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  organization_id: string;
  csrf_token: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface OAuthStatesTable {
  state_hash: string;
  organization_id: string;
  session_token_hash: string | null;
  invite_id: string | null;
  user_id: string | null;
  code_verifier_ciphertext: string;
  nonce_ciphertext: string;
  key_id: string;
  redirect_uri: string;
  return_path: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}

export type ConnectionMethod = 'oauth_classic' | 'oauth_scoped' | 'api_key';
export type ConnectionStatus = 'connected' | 'needs_reconnect' | 'error' | 'disconnected';

export interface ConnectionsTable {
  id: Generated<string>;
  organization_id: string;
  provider: string;
  method: ConnectionMethod;
  status: ConnectionStatus;
  status_reason: string | null;
  status_changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
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
  last_sync_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ConnectionCredentialsTable {
  connection_id: string;
  key_id: string;
  access_token_ciphertext: string;
  refresh_token_ciphertext: string | null;
  access_token_expires_at: Timestamp | null;
  refreshed_at: Timestamp | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';

export interface SyncRunsTable {
  id: Generated<string>;
  organization_id: string;
  connection_id: string;
  kind: 'full' | 'incremental';
  status: SyncRunStatus;
  trigger: string;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  error_code: string | null;
  error_message: string | null;
  request_count: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
}

export type StreamStatus = 'pending' | 'running' | 'succeeded' | 'unavailable' | 'failed';

export interface SyncRunStreamsTable {
  sync_run_id: string;
  stream: string;
  status: StreamStatus;
  pages: ColumnType<number, number | undefined, number>;
  records: ColumnType<number, number | undefined, number>;
  expected_records: number | null;
  window_start: Timestamp | null;
  window_end: Timestamp | null;
  message: string | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface StreamCheckpointsTable {
  connection_id: string;
  stream: string;
  checkpoint: Json<Record<string, unknown>>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PdUsersTable {
  connection_id: string;
  id: string;
  name: string;
  email: string;
  role: string;
  time_zone: string | null;
  job_title: string | null;
  invitation_sent: boolean;
  html_url: string | null;
  raw: Json;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
  deleted_at: Timestamp | null;
}

export interface PdLicensesTable {
  connection_id: string;
  id: string;
  name: string;
  description: string | null;
  role_group: string;
  current_value: number;
  allocations_available: number | null;
  valid_roles: Json<string[]>;
  raw: Json;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PdLicenseAllocationsTable {
  connection_id: string;
  user_id: string;
  license_id: string;
  allocated_at: Timestamp | null;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PdAbilitiesTable {
  connection_id: string;
  ability: string;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PdLogEntriesTable {
  connection_id: string;
  id: string;
  type: string;
  created_at: Timestamp;
  agent_type: string | null;
  agent_id: string | null;
  channel_type: string | null;
  incident_id: string | null;
  service_id: string | null;
  user_id: string | null;
  summary: string | null;
}

export interface PeopleTable {
  connection_id: string;
  organization_id: string;
  external_id: string;
  name: string;
  email: string;
  role: string;
  license_id: string | null;
  license_name: string | null;
  role_group: string | null;
  last_seen_at: Timestamp | null;
  last_seen_signal: string | null;
  last_seen_detail: string | null;
  is_deleted: boolean;
  is_invited_never_signed_up: boolean;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SeatSummariesTable {
  connection_id: string;
  organization_id: string;
  license_id: string;
  license_name: string;
  role_group: string;
  paid: number | null;
  allocated: number;
  active_30d: number;
  active_90d: number;
  never_active: number;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DB {
  organizations: OrganizationsTable;
  users: UsersTable;
  sessions: SessionsTable;
  oauth_states: OAuthStatesTable;
  connections: ConnectionsTable;
  connection_credentials: ConnectionCredentialsTable;
  sync_runs: SyncRunsTable;
  sync_run_streams: SyncRunStreamsTable;
  stream_checkpoints: StreamCheckpointsTable;
  pd_users: PdUsersTable;
  pd_licenses: PdLicensesTable;
  pd_license_allocations: PdLicenseAllocationsTable;
  pd_abilities: PdAbilitiesTable;
  pd_log_entries: PdLogEntriesTable;
  people: PeopleTable;
  seat_summaries: SeatSummariesTable;
}
