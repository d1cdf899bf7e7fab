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
  email: string;
  name: string;
  password_hash: string;
  created_at: CreatedAt;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  role: Role;
  last_used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface MemberInvitesTable {
  id: Generated<string>;
  organization_id: string;
  inviter_user_id: string | null;
  email: string;
  role: Role;
  token_hash: string;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
  accepted_by_user_id: string | null;
  revoked_at: Timestamp | null;
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
  is_account_switch_confirmed: ColumnType<boolean, boolean | undefined, boolean>;
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
  /** When the current account was connected: the last successful connect or reconnect. */
  connected_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** When the organization switched to another account; archived rows are left out of the dashboard. */
  archived_at: Timestamp | null;
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
  /** The log entry's `channel` object (added by 0002_streams.sql). */
  channel: Json | null;
  /** Ids of the people an `assign_log_entry` named (added by 0002_streams.sql). */
  assignee_ids: Json<string[]> | null;
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
  last_activity_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_activity_signal: ColumnType<string | null, string | null | undefined, string | null>;
  last_activity_detail: ColumnType<string | null, string | null | undefined, string | null>;
  teams: JsonArray<string>;
  escalation_policy_ids: JsonArray<string>;
  schedule_ids: JsonArray<string>;
  upcoming_shift_count: ColumnType<number, number | undefined, number>;
  is_permanent_on_call: ColumnType<boolean, boolean | undefined, boolean>;
  open_incident_count: ColumnType<number, number | undefined, number>;
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
  active_60d: ColumnType<number, number | undefined, number>;
  /** 'license' for a PagerDuty license, 'role' for a group derived from people's roles. */
  basis: ColumnType<SeatBasis, SeatBasis | undefined, SeatBasis>;
}

export type SeatBasis = 'license' | 'role';

/** Tables of 0002_streams.sql: the raw records of every stream beyond the first five. */

type SyncedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface PdContactMethodsTable {
  connection_id: string;
  id: string;
  user_id: string;
  type: string;
  label: string | null;
  address: string | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdNotificationRulesTable {
  connection_id: string;
  id: string;
  user_id: string;
  urgency: string | null;
  start_delay_in_minutes: number | null;
  contact_method_id: string | null;
  contact_method_type: string | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdTeamsTable {
  connection_id: string;
  id: string;
  name: string;
  description: string | null;
  default_role: string | null;
  raw: Json;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

export interface PdTeamMembersTable {
  connection_id: string;
  team_id: string;
  user_id: string;
  role: string | null;
  synced_at: SyncedAt;
}

export interface PdEscalationPoliciesTable {
  connection_id: string;
  id: string;
  name: string;
  description: string | null;
  num_loops: number | null;
  raw: Json;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

export interface PdEscalationTargetsTable {
  connection_id: string;
  escalation_policy_id: string;
  rule_position: number;
  rule_id: string | null;
  /** `user_reference` or `schedule_reference` (or `user` / `schedule` when PagerDuty expands them). */
  target_type: string;
  target_id: string;
  escalation_delay_in_minutes: number | null;
  synced_at: SyncedAt;
}

export interface PdSchedulesTable {
  connection_id: string;
  id: string;
  name: string;
  description: string | null;
  time_zone: string | null;
  raw: Json;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

export interface PdScheduleLayersTable {
  connection_id: string;
  schedule_id: string;
  id: string;
  name: string | null;
  start_at: Timestamp | null;
  end_at: Timestamp | null;
  rotation_virtual_start: Timestamp | null;
  rotation_turn_length_seconds: number | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdScheduleLayerUsersTable {
  connection_id: string;
  schedule_id: string;
  layer_id: string;
  position: number;
  user_id: string;
  synced_at: SyncedAt;
}

export interface PdScheduleOverridesTable {
  connection_id: string;
  id: string;
  schedule_id: string;
  user_id: string | null;
  start_at: Timestamp;
  end_at: Timestamp;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdOncallsTable {
  connection_id: string;
  /** Built from escalation policy, level, schedule, person and start, as shifts have no id. */
  shift_key: string;
  user_id: string;
  escalation_policy_id: string | null;
  escalation_level: number | null;
  schedule_id: string | null;
  /** Null start and end mean a permanent on-call. */
  start_at: Timestamp | null;
  end_at: Timestamp | null;
  synced_at: SyncedAt;
}

export interface PdServicesTable {
  connection_id: string;
  id: string;
  name: string;
  description: string | null;
  status: string | null;
  created_at: Timestamp | null;
  last_incident_timestamp: Timestamp | null;
  escalation_policy_id: string | null;
  raw: Json;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

export interface PdServiceIntegrationsTable {
  connection_id: string;
  id: string;
  service_id: string;
  type: string;
  name: string | null;
  vendor_id: string | null;
  created_at: Timestamp | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdIncidentsTable {
  connection_id: string;
  id: string;
  incident_number: number | null;
  title: string | null;
  status: string;
  urgency: string | null;
  created_at: Timestamp;
  updated_at: Timestamp | null;
  resolved_at: Timestamp | null;
  last_status_change_at: Timestamp | null;
  last_status_change_by_type: string | null;
  last_status_change_by_id: string | null;
  service_id: string | null;
  escalation_policy_id: string | null;
  priority_id: string | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdNotificationsTable {
  connection_id: string;
  id: string;
  type: string;
  started_at: Timestamp;
  address: string | null;
  user_id: string | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdAnalyticsUsersTable {
  connection_id: string;
  user_id: string;
  last_sign_in_at: Timestamp | null;
  downloaded_mobile_app: boolean | null;
  signed_up: boolean | null;
  on_escalation_policy: boolean | null;
  on_schedule: boolean | null;
  channel_types_configured: Json<string[]> | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdOAuthDelegationsTable {
  connection_id: string;
  id: string;
  user_id: string;
  /** `web`, `mobile` or `integration`. */
  delegation_type: string | null;
  status: string | null;
  client_id: string | null;
  scope: string | null;
  created_at: Timestamp | null;
  expires_at: Timestamp | null;
  raw: Json;
  synced_at: SyncedAt;
}

export interface PdAuditRecordsTable {
  connection_id: string;
  id: string;
  execution_time: Timestamp;
  actor_type: string | null;
  actor_id: string | null;
  method_type: string | null;
  root_resource_type: string | null;
  root_resource_id: string | null;
  action: string | null;
  raw: Json;
  synced_at: SyncedAt;
}

/** Account-level features the inventory reads; `feature` of pd_feature_resources and pd_feature_inventory. */
export type InventoryFeature =
  | 'status_pages'
  | 'incident_workflows'
  | 'business_services'
  | 'event_orchestrations'
  | 'extensions'
  | 'addons'
  | 'automation_actions'
  | 'priorities'
  | 'custom_fields';

export interface PdFeatureResourcesTable {
  connection_id: string;
  feature: InventoryFeature;
  id: string;
  name: string | null;
  created_at: Timestamp | null;
  is_enabled: boolean | null;
  raw: Json;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

/** A user or team following a business service's or an incident's status updates; times are of the syncs that read it. */
export interface PdNotificationSubscriptionsTable {
  connection_id: string;
  subscribable_type: 'business_service' | 'incident';
  subscribable_id: string;
  subscriber_type: 'user' | 'team';
  subscriber_id: string;
  first_seen_at: Timestamp;
  synced_at: SyncedAt;
  deleted_at: Timestamp | null;
}

/** An incident whose subscribers a sync read, with its status and last status change at that read. */
export interface PdIncidentSubscriberReadsTable {
  connection_id: string;
  incident_id: string;
  status: string;
  status_changed_at: Timestamp;
  read_at: Timestamp;
}

export interface PdFeatureInventoryTable {
  connection_id: string;
  feature: InventoryFeature;
  status: 'available' | 'unavailable';
  reason: string | null;
  resource_count: ColumnType<number, number | undefined, number>;
  checked_at: SyncedAt;
}

export interface PdCapabilitiesTable {
  connection_id: string;
  user_id: string | null;
  user_role: string | null;
  granted_scope: string | null;
  region: string | null;
  abilities: Json<string[]>;
  /** Stream name to the reason it cannot be read (plan, permission or scope). */
  unavailable_streams: Json<Record<string, string>>;
  checked_at: SyncedAt;
}

export interface PagerDutyInvitesTable {
  id: Generated<string>;
  organization_id: string;
  inviter_user_id: string | null;
  email: string;
  note: string | null;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  connection_id: string | null;
  outcome_message: string | null;
  created_at: CreatedAt;
}

export interface AuditEventsTable {
  id: Generated<string>;
  organization_id: string;
  actor_user_id: string | null;
  actor_label: string;
  action: string;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
}

export interface MailOutboxTable {
  id: Generated<string>;
  organization_id: string | null;
  to_address: string;
  subject: string;
  body_ciphertext: string;
  key_id: string;
  transport: 'smtp' | 'outbox';
  sent_at: Timestamp | null;
  error_message: string | null;
  created_at: CreatedAt;
}

export type JsonArray<T> = ColumnType<T[], string | undefined, string>;

export interface FeaturesTable {
  provider: string;
  key: string;
  name: string;
  description: string;
  category: string;
  scope: 'person' | 'account';
  requirement: string | null;
  signals: ColumnType<string[], string | undefined, string>;
  position: number;
}

export interface ActivityDailyTable {
  connection_id: string;
  organization_id: string;
  external_id: string;
  feature_key: string;
  day: ColumnType<string, string, string>;
  event_count: number;
  first_at: Timestamp;
  last_at: Timestamp;
}

export interface WeeklyFeatureActivityTable {
  connection_id: string;
  organization_id: string;
  week_start: ColumnType<string, string, string>;
  feature_key: string;
  active_people: number;
  first_day: ColumnType<string, string, string>;
}

export interface PersonActiveWeeksTable {
  connection_id: string;
  organization_id: string;
  external_id: string;
  /** Mondays (`YYYY-MM-DD`) of the weeks with an event of a team-level feature, ascending. */
  week_starts: ColumnType<string[], string[], string[]>;
}

export interface WeeklyTeamActivityTable {
  connection_id: string;
  organization_id: string;
  week_start: ColumnType<string, string, string>;
  team: string;
  active_people: number;
}

export interface PersonFeaturesTable {
  connection_id: string;
  organization_id: string;
  external_id: string;
  feature_key: string;
  first_used_at: Timestamp;
  last_used_at: Timestamp;
  count_30d: number;
  count_60d: number;
  count_90d: number;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SignalAvailabilityTable {
  connection_id: string;
  organization_id: string;
  signal: string;
  status: 'available' | 'unavailable';
  reason: string | null;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AccountFeaturesTable {
  connection_id: string;
  organization_id: string;
  feature_key: string;
  status: 'available' | 'unavailable' | 'unknown';
  reason: string | null;
  configured_count: number | null;
  exercised_count_90d: number | null;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type BillingPeriod = 'monthly' | 'annual';

export interface ContractsTable {
  id: Generated<string>;
  organization_id: string;
  provider: string;
  plan: string | null;
  currency: ColumnType<string, string | undefined, string>;
  billing_period: BillingPeriod;
  /** A calendar date, `YYYY-MM-DD`. */
  renewal_date: ColumnType<string | null, string | null | undefined, string | null>;
  notice_period_days: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ContractLinesTable {
  contract_id: string;
  license_name: string;
  role_group: string | null;
  seats: number | null;
  price_per_seat_minor: number;
}

export interface RecommendationSettingsTable {
  organization_id: string;
  provider: string;
  unused_days: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface RecommendationExemptionsTable {
  organization_id: string;
  provider: string;
  email: string;
  reason: string | null;
  created_at: CreatedAt;
}

export type RecommendationKind = 'reclaim_seat' | 'downgrade_to_stakeholder' | 'remove_invitation';
export type RecommendationStatus = 'ready' | 'flagged' | 'blocked';

export interface RecommendationsTable {
  connection_id: string;
  organization_id: string;
  kind: RecommendationKind;
  external_id: string;
  email: string;
  name: string;
  license_id: string | null;
  license_name: string | null;
  status: RecommendationStatus;
  currency: string | null;
  yearly_saving_minor: number | null;
  /** A calendar date, `YYYY-MM-DD`. */
  effective_date: ColumnType<string, string, string>;
  evidence: Json<Record<string, unknown>>;
  guardrails: Json<Array<Record<string, unknown>>>;
  computed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SignInAttemptsTable {
  scope: 'email' | 'address';
  key_hash: string;
  attempts: number;
  window_started_at: Timestamp;
}

export interface DB {
  organizations: OrganizationsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  member_invites: MemberInvitesTable;
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
  pd_contact_methods: PdContactMethodsTable;
  pd_notification_rules: PdNotificationRulesTable;
  pd_teams: PdTeamsTable;
  pd_team_members: PdTeamMembersTable;
  pd_escalation_policies: PdEscalationPoliciesTable;
  pd_escalation_targets: PdEscalationTargetsTable;
  pd_schedules: PdSchedulesTable;
  pd_schedule_layers: PdScheduleLayersTable;
  pd_schedule_layer_users: PdScheduleLayerUsersTable;
  pd_schedule_overrides: PdScheduleOverridesTable;
  pd_oncalls: PdOncallsTable;
  pd_services: PdServicesTable;
  pd_service_integrations: PdServiceIntegrationsTable;
  pd_incidents: PdIncidentsTable;
  pd_notifications: PdNotificationsTable;
  pd_analytics_users: PdAnalyticsUsersTable;
  pd_oauth_delegations: PdOAuthDelegationsTable;
  pd_audit_records: PdAuditRecordsTable;
  pd_feature_resources: PdFeatureResourcesTable;
  pd_feature_inventory: PdFeatureInventoryTable;
  pd_notification_subscriptions: PdNotificationSubscriptionsTable;
  pd_incident_subscriber_reads: PdIncidentSubscriberReadsTable;
  pd_capabilities: PdCapabilitiesTable;
  people: PeopleTable;
  seat_summaries: SeatSummariesTable;
  pagerduty_invites: PagerDutyInvitesTable;
  audit_events: AuditEventsTable;
  mail_outbox: MailOutboxTable;
  sign_in_attempts: SignInAttemptsTable;
  features: FeaturesTable;
  activity_daily: ActivityDailyTable;
  person_features: PersonFeaturesTable;
  weekly_feature_activity: WeeklyFeatureActivityTable;
  person_active_weeks: PersonActiveWeeksTable;
  weekly_team_activity: WeeklyTeamActivityTable;
  signal_availability: SignalAvailabilityTable;
  account_features: AccountFeaturesTable;
  contracts: ContractsTable;
  contract_lines: ContractLinesTable;
  recommendation_settings: RecommendationSettingsTable;
  recommendation_exemptions: RecommendationExemptionsTable;
  recommendations: RecommendationsTable;
}
