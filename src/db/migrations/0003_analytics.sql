-- Provider-neutral analytics beyond people and seats: the feature catalogue, activity facts per
-- person, feature and day, per-person feature use and coverage, signal availability, contracts,
-- recommendation settings, exemptions and the recommendations themselves.

-- The feature catalogue, rewritten from the connector's catalogue by every crunch.
CREATE TABLE features (
  provider text NOT NULL,
  key text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  category text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('person', 'account')),
  requirement text,
  signals jsonb NOT NULL DEFAULT '[]',
  position integer NOT NULL,
  PRIMARY KEY (provider, key)
);

-- Events per person, feature and UTC day: how often, first and last instant.
CREATE TABLE activity_daily (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  feature_key text NOT NULL,
  day date NOT NULL,
  event_count integer NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  PRIMARY KEY (connection_id, external_id, feature_key, day)
);
CREATE INDEX activity_daily_feature_day_idx ON activity_daily (connection_id, feature_key, day);

-- Use of each feature by each person over the synced history, with counts in rolling windows.
CREATE TABLE person_features (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  feature_key text NOT NULL,
  first_used_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  count_30d integer NOT NULL,
  count_60d integer NOT NULL,
  count_90d integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, external_id, feature_key)
);
CREATE INDEX person_features_organization_idx ON person_features (organization_id, feature_key);

-- Whether each signal could be read for a connection, and if not, why.
CREATE TABLE signal_availability (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  signal text NOT NULL,
  status text NOT NULL CHECK (status IN ('available', 'unavailable')),
  reason text,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, signal)
);

-- Account features (status pages, workflows, ...) configured versus exercised.
CREATE TABLE account_features (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  feature_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('available', 'unavailable', 'unknown')),
  reason text,
  configured_count integer,
  exercised_count_90d integer,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, feature_key)
);

-- Activity from every signal, coverage and teams; `last_seen_*` keeps its incident-action definition.
ALTER TABLE people ADD COLUMN last_activity_at timestamptz;
ALTER TABLE people ADD COLUMN last_activity_signal text;
ALTER TABLE people ADD COLUMN last_activity_detail text;
ALTER TABLE people ADD COLUMN teams jsonb NOT NULL DEFAULT '[]';
ALTER TABLE people ADD COLUMN escalation_policy_ids jsonb NOT NULL DEFAULT '[]';
ALTER TABLE people ADD COLUMN schedule_ids jsonb NOT NULL DEFAULT '[]';
ALTER TABLE people ADD COLUMN upcoming_shift_count integer NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN is_permanent_on_call boolean NOT NULL DEFAULT false;
ALTER TABLE people ADD COLUMN open_incident_count integer NOT NULL DEFAULT 0;

ALTER TABLE seat_summaries ADD COLUMN active_60d integer NOT NULL DEFAULT 0;

-- What an organization pays for an app; prices are per seat per billing period, in minor units.
CREATE TABLE contracts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  provider text NOT NULL,
  plan text,
  currency text NOT NULL DEFAULT 'USD',
  billing_period text NOT NULL CHECK (billing_period IN ('monthly', 'annual')),
  renewal_date date,
  notice_period_days integer NOT NULL DEFAULT 0 CHECK (notice_period_days >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contracts_organization_provider_key ON contracts (organization_id, provider);

CREATE TABLE contract_lines (
  contract_id uuid NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
  license_name text NOT NULL,
  role_group text,
  seats integer CHECK (seats >= 0),
  price_per_seat_minor integer NOT NULL CHECK (price_per_seat_minor >= 0),
  PRIMARY KEY (contract_id, license_name)
);

CREATE TABLE recommendation_settings (
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  provider text NOT NULL,
  unused_days integer NOT NULL DEFAULT 90 CHECK (unused_days IN (30, 60, 90)),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, provider)
);

-- People never recommended for a change, by lower-cased email.
CREATE TABLE recommendation_exemptions (
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  provider text NOT NULL,
  email text NOT NULL CHECK (email = lower(email)),
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, provider, email)
);

CREATE TABLE recommendations (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation')),
  external_id text NOT NULL,
  email text NOT NULL,
  name text NOT NULL,
  license_id text,
  license_name text,
  status text NOT NULL CHECK (status IN ('ready', 'flagged', 'blocked')),
  currency text,
  yearly_saving_minor integer,
  effective_date date NOT NULL,
  evidence jsonb NOT NULL,
  guardrails jsonb NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, kind, external_id)
);
CREATE INDEX recommendations_organization_idx ON recommendations (organization_id);
