-- Sign-in attempts per email address and per client address, kept in the database so that every
-- web process counts against the same limit.

-- `key_hash` is the SHA-256 of the scope and the lower-cased email or the client address, so
-- the table does not list the addresses people typed. An attempt is counted before the password
-- is checked, and a successful sign-in takes its attempt back.
CREATE TABLE sign_in_attempts (
  scope text NOT NULL CHECK (scope IN ('email', 'address')),
  key_hash text NOT NULL,
  attempts integer NOT NULL,
  window_started_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key_hash)
);
CREATE INDEX sign_in_attempts_window_idx ON sign_in_attempts (window_started_at);
