-- Invitations for a PagerDuty admin to connect on an organization's behalf, the audit log of
-- Seatwise actions, and the outbox of mail Seatwise sends.

-- A link that lets someone without a Seatwise account complete the OAuth connect flow once.
-- Only the SHA-256 of the link's token is stored.
CREATE TABLE pagerduty_invites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  inviter_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  email text NOT NULL,
  note text,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  connection_id uuid REFERENCES connections(id) ON DELETE SET NULL,
  -- Why the connection made through the invite is limited, such as a consenting user who is
  -- not a PagerDuty admin; null when it is not.
  outcome_message text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pagerduty_invites_organization_idx ON pagerduty_invites (organization_id, created_at DESC);

CREATE TABLE audit_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  actor_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  -- Who acted, as shown in the log: a user's email, or a description such as an invitee.
  actor_label text NOT NULL,
  action text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, created_at DESC);

-- Every message Seatwise sends or, in the embedded default without SMTP, would have sent. Bodies
-- carry single-use links, so they are sealed like tokens (AES-256-GCM, key id beside).
CREATE TABLE mail_outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
  to_address text NOT NULL,
  subject text NOT NULL,
  body_ciphertext text NOT NULL,
  key_id text NOT NULL,
  transport text NOT NULL CHECK (transport IN ('smtp', 'outbox')),
  sent_at timestamptz,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_organization_idx ON mail_outbox (organization_id, created_at DESC);
