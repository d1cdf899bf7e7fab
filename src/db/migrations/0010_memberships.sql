-- Several organizations per installation: a user belongs to organizations through memberships,
-- each with its own role, and a session works in one of them at a time. Invitations to join are
-- stored, so they can be listed and revoked.

CREATE TABLE memberships (
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  -- When the user last signed in to or switched to this organization; sign-in opens the newest.
  last_used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

INSERT INTO memberships (organization_id, user_id, role, created_at)
SELECT organization_id, id, role, created_at FROM users;

ALTER TABLE users DROP COLUMN organization_id;
ALTER TABLE users DROP COLUMN role;

-- A session works in the organization it names, and only while the user is a member: removing
-- the membership deletes the sessions in that organization, so access ends at once.
ALTER TABLE sessions
  ADD CONSTRAINT sessions_membership_fkey FOREIGN KEY (organization_id, user_id)
  REFERENCES memberships (organization_id, user_id) ON DELETE CASCADE;
CREATE INDEX sessions_membership_idx ON sessions (organization_id, user_id);

-- An invitation to join an organization with a role. Only the SHA-256 of the link's token is
-- stored. It is pending until accepted, revoked or expired.
CREATE TABLE member_invites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  inviter_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_invites_organization_idx ON member_invites (organization_id, created_at DESC);
