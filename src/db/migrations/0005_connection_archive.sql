-- When the current account was connected, and archived connections that keep the data of an
-- account the organization switched away from.

-- Set on each successful connect or reconnect. `status_changed_at` moves on every status change
-- (a revoked token, a failed refresh), so it cannot tell when the account was connected.
ALTER TABLE connections ADD COLUMN connected_at timestamptz;
UPDATE connections SET connected_at = CASE WHEN status = 'connected' THEN status_changed_at ELSE created_at END;
ALTER TABLE connections ALTER COLUMN connected_at SET NOT NULL;
ALTER TABLE connections ALTER COLUMN connected_at SET DEFAULT now();

-- Set when the organization switched to another PagerDuty account. An archived connection keeps
-- its synced rows, has no credentials and is left out of every dashboard query.
ALTER TABLE connections ADD COLUMN archived_at timestamptz;

-- One live connection per organization and provider; archived ones may be many.
DROP INDEX connections_organization_provider_key;
CREATE UNIQUE INDEX connections_organization_provider_live_key ON connections (organization_id, provider) WHERE archived_at IS NULL;

-- Set when the user confirmed, before authorizing, that a different account may replace the
-- connected one (its data is archived, never mixed with the new account's).
ALTER TABLE oauth_states ADD COLUMN is_account_switch_confirmed boolean NOT NULL DEFAULT false;
