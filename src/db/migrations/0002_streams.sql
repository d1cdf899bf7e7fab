-- Raw PagerDuty records of every stream beyond the first five, keyed by PagerDuty ids and upserted
-- by the sync engine. `raw` keeps the whole payload, unknown fields included, so later analytics
-- can read fields that no column names yet. Tables of resources that can disappear carry
-- `deleted_at`, set only after a complete pass no longer returned the record.

-- Contact methods of each person (`/users?include[]=contact_methods`).
CREATE TABLE pd_contact_methods (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  user_id text NOT NULL,
  type text NOT NULL,
  label text,
  address text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_contact_methods_user_idx ON pd_contact_methods (connection_id, user_id);

-- Notification rules of each person (`/users?include[]=notification_rules`).
CREATE TABLE pd_notification_rules (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  user_id text NOT NULL,
  urgency text,
  start_delay_in_minutes integer,
  contact_method_id text,
  contact_method_type text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_notification_rules_user_idx ON pd_notification_rules (connection_id, user_id);

CREATE TABLE pd_teams (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  description text,
  default_role text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, id)
);

-- Members of each team with their team role (observer, responder or manager).
CREATE TABLE pd_team_members (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  team_id text NOT NULL,
  user_id text NOT NULL,
  role text,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, team_id, user_id)
);
CREATE INDEX pd_team_members_user_idx ON pd_team_members (connection_id, user_id);

CREATE TABLE pd_escalation_policies (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  description text,
  num_loops integer,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, id)
);

-- One row per target of each escalation rule: a person directly, or a schedule.
CREATE TABLE pd_escalation_targets (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  escalation_policy_id text NOT NULL,
  rule_position integer NOT NULL,
  rule_id text,
  target_type text NOT NULL,
  target_id text NOT NULL,
  escalation_delay_in_minutes integer,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, escalation_policy_id, rule_position, target_type, target_id)
);
CREATE INDEX pd_escalation_targets_target_idx ON pd_escalation_targets (connection_id, target_type, target_id);

CREATE TABLE pd_schedules (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  description text,
  time_zone text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, id)
);

CREATE TABLE pd_schedule_layers (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  schedule_id text NOT NULL,
  id text NOT NULL,
  name text,
  start_at timestamptz,
  end_at timestamptz,
  rotation_virtual_start timestamptz,
  rotation_turn_length_seconds integer,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, schedule_id, id)
);

-- The people of each layer in rotation order.
CREATE TABLE pd_schedule_layer_users (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  schedule_id text NOT NULL,
  layer_id text NOT NULL,
  position integer NOT NULL,
  user_id text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, schedule_id, layer_id, position)
);
CREATE INDEX pd_schedule_layer_users_user_idx ON pd_schedule_layer_users (connection_id, user_id);

CREATE TABLE pd_schedule_overrides (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  schedule_id text NOT NULL,
  user_id text,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_schedule_overrides_user_idx ON pd_schedule_overrides (connection_id, user_id, start_at);

-- On-call shifts. PagerDuty gives them no id, so `shift_key` is built from the escalation policy,
-- level, schedule, person and start; null start and end mean a permanent on-call.
CREATE TABLE pd_oncalls (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  shift_key text NOT NULL,
  user_id text NOT NULL,
  escalation_policy_id text,
  escalation_level integer,
  schedule_id text,
  start_at timestamptz,
  end_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, shift_key)
);
CREATE INDEX pd_oncalls_user_idx ON pd_oncalls (connection_id, user_id, start_at);

CREATE TABLE pd_services (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  description text,
  status text,
  created_at timestamptz,
  last_incident_timestamp timestamptz,
  escalation_policy_id text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, id)
);

CREATE TABLE pd_service_integrations (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  service_id text NOT NULL,
  type text NOT NULL,
  name text,
  vendor_id text,
  created_at timestamptz,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_service_integrations_service_idx ON pd_service_integrations (connection_id, service_id);

CREATE TABLE pd_incidents (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  incident_number integer,
  title text,
  status text NOT NULL,
  urgency text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz,
  resolved_at timestamptz,
  last_status_change_at timestamptz,
  last_status_change_by_type text,
  last_status_change_by_id text,
  service_id text,
  escalation_policy_id text,
  priority_id text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_incidents_created_idx ON pd_incidents (connection_id, created_at);

-- Notifications sent to people (`/notifications`): SMS, email, phone and push.
CREATE TABLE pd_notifications (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  type text NOT NULL,
  started_at timestamptz NOT NULL,
  address text,
  user_id text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_notifications_user_idx ON pd_notifications (connection_id, user_id, started_at);

-- Per-person rows of `POST /analytics/raw/users`; PagerDuty refreshes them within about a day.
CREATE TABLE pd_analytics_users (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  user_id text NOT NULL,
  last_sign_in_at timestamptz,
  downloaded_mobile_app boolean,
  signed_up boolean,
  on_escalation_policy boolean,
  on_schedule boolean,
  channel_types_configured jsonb,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, user_id)
);

-- Web, mobile and integration sessions of each person (`/users/{id}/oauth_delegations`).
CREATE TABLE pd_oauth_delegations (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  user_id text NOT NULL,
  delegation_type text,
  status text,
  client_id text,
  scope text,
  created_at timestamptz,
  expires_at timestamptz,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_oauth_delegations_user_idx ON pd_oauth_delegations (connection_id, user_id, created_at DESC);

-- Configuration changes (`/audit/records`): who changed what, through which surface.
CREATE TABLE pd_audit_records (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  execution_time timestamptz NOT NULL,
  actor_type text,
  actor_id text,
  method_type text,
  root_resource_type text,
  root_resource_id text,
  action text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_audit_records_actor_idx ON pd_audit_records (connection_id, actor_id, execution_time DESC);

-- Account-level feature inventory: one row per configured resource of a feature such as status
-- pages, incident workflows, business services, event orchestrations, extensions, add-ons and
-- automation actions.
CREATE TABLE pd_feature_resources (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  feature text NOT NULL,
  id text NOT NULL,
  name text,
  created_at timestamptz,
  is_enabled boolean,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, feature, id)
);

-- Whether each inventory feature could be read, and how many resources it has. `status` is
-- `available`, or `unavailable` with `reason` (plan, permission or scope).
CREATE TABLE pd_feature_inventory (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  feature text NOT NULL,
  status text NOT NULL CHECK (status IN ('available', 'unavailable')),
  reason text,
  resource_count integer NOT NULL DEFAULT 0,
  checked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, feature)
);

-- What the connection may read, from the capability probe at connect and before each sync.
CREATE TABLE pd_capabilities (
  connection_id uuid PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  user_id text,
  user_role text,
  granted_scope text,
  region text,
  abilities jsonb NOT NULL DEFAULT '[]',
  unavailable_streams jsonb NOT NULL DEFAULT '{}',
  checked_at timestamptz NOT NULL DEFAULT now()
);

-- Log entries gain the incident's channel detail and the people an assignment named.
ALTER TABLE pd_log_entries ADD COLUMN channel jsonb;
ALTER TABLE pd_log_entries ADD COLUMN assignee_ids jsonb;
