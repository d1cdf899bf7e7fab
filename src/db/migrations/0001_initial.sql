-- Seatwise's own accounts, PagerDuty connections, sync bookkeeping, raw PagerDuty records and
-- the provider-neutral analytics tables. Every table that holds customer data carries
-- organization_id (directly or through connection_id) so every query can be scoped to one tenant.

CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  support_email text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email text NOT NULL,
  name text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_organization_idx ON users (organization_id);

-- A session cookie carries a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- One pending OAuth authorization. The state value itself is never stored, only its SHA-256;
-- the PKCE verifier and nonce are encrypted like tokens.
CREATE TABLE oauth_states (
  state_hash text PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  session_token_hash text,
  invite_id uuid,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  code_verifier_ciphertext text NOT NULL,
  nonce_ciphertext text NOT NULL,
  key_id text NOT NULL,
  redirect_uri text NOT NULL,
  return_path text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  provider text NOT NULL,
  method text NOT NULL CHECK (method IN ('oauth_classic', 'oauth_scoped', 'api_key')),
  status text NOT NULL CHECK (status IN ('connected', 'needs_reconnect', 'error', 'disconnected')),
  status_reason text,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  account_id text,
  subdomain text,
  region text,
  api_base_url text NOT NULL,
  granted_scope text,
  delegation_id text,
  connected_by_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  provider_user_id text,
  provider_user_name text,
  provider_user_email text,
  provider_user_role text,
  last_sync_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX connections_organization_provider_key ON connections (organization_id, provider);

-- Secrets are stored as AES-256-GCM ciphertext with the id of the key that sealed them.
CREATE TABLE connection_credentials (
  connection_id uuid PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  key_id text NOT NULL,
  access_token_ciphertext text NOT NULL,
  refresh_token_ciphertext text,
  access_token_expires_at timestamptz,
  refreshed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
  trigger text NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  error_code text,
  error_message text,
  request_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_runs_connection_idx ON sync_runs (connection_id, created_at DESC);

-- Per-stream progress of one run, written after every page.
CREATE TABLE sync_run_streams (
  sync_run_id uuid NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
  stream text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'unavailable', 'failed')),
  pages integer NOT NULL DEFAULT 0,
  records integer NOT NULL DEFAULT 0,
  expected_records integer,
  window_start timestamptz,
  window_end timestamptz,
  message text,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (sync_run_id, stream)
);

-- Where each stream continues from: survives across runs, so a killed worker resumes.
CREATE TABLE stream_checkpoints (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  stream text NOT NULL,
  checkpoint jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, stream)
);

-- Raw PagerDuty records, keyed by their PagerDuty ids and upserted.
CREATE TABLE pd_users (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  time_zone text,
  job_title text,
  invitation_sent boolean NOT NULL DEFAULT false,
  html_url text,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, id)
);

CREATE TABLE pd_licenses (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  description text,
  role_group text NOT NULL,
  current_value integer NOT NULL,
  allocations_available integer,
  valid_roles jsonb NOT NULL DEFAULT '[]',
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, id)
);

CREATE TABLE pd_license_allocations (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  user_id text NOT NULL,
  license_id text NOT NULL,
  allocated_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, user_id)
);

CREATE TABLE pd_abilities (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  ability text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, ability)
);

CREATE TABLE pd_log_entries (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id text NOT NULL,
  type text NOT NULL,
  created_at timestamptz NOT NULL,
  agent_type text,
  agent_id text,
  channel_type text,
  incident_id text,
  service_id text,
  -- The person a notify_log_entry was sent to; agents of notifications are services.
  user_id text,
  summary text,
  PRIMARY KEY (connection_id, id)
);
CREATE INDEX pd_log_entries_agent_idx ON pd_log_entries (connection_id, agent_id, created_at DESC);
CREATE INDEX pd_log_entries_created_idx ON pd_log_entries (connection_id, created_at);

-- Provider-neutral results of the crunch, read by the dashboard.
CREATE TABLE people (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  name text NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  license_id text,
  license_name text,
  role_group text,
  last_seen_at timestamptz,
  last_seen_signal text,
  last_seen_detail text,
  is_deleted boolean NOT NULL DEFAULT false,
  is_invited_never_signed_up boolean NOT NULL DEFAULT false,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, external_id)
);
CREATE INDEX people_organization_idx ON people (organization_id);

CREATE TABLE seat_summaries (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  license_id text NOT NULL,
  license_name text NOT NULL,
  role_group text NOT NULL,
  paid integer,
  allocated integer NOT NULL,
  active_30d integer NOT NULL,
  active_90d integer NOT NULL,
  never_active integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, license_id)
);
