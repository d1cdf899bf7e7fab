-- Weekly active people, written by the crunch so the overview and features pages read a few
-- hundred rows instead of counting distinct people over every activity fact of the history.
-- Weeks are ISO weeks of UTC days, keyed by their Monday.

-- Distinct people with an event of each feature in each week.
CREATE TABLE weekly_feature_activity (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  week_start date NOT NULL,
  feature_key text NOT NULL,
  active_people integer NOT NULL,
  -- The first UTC day of the week with an event of the feature.
  first_day date NOT NULL,
  PRIMARY KEY (connection_id, week_start, feature_key)
);
CREATE INDEX weekly_feature_activity_organization_idx ON weekly_feature_activity (organization_id, week_start);

-- People with an event of a team-level feature in each week: the input of the team figures,
-- which must follow team membership changes without recounting the activity facts.
CREATE TABLE weekly_person_activity (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  week_start date NOT NULL,
  external_id text NOT NULL,
  PRIMARY KEY (connection_id, week_start, external_id)
);

-- Distinct members of each team, by the current team membership, active in each week.
CREATE TABLE weekly_team_activity (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  week_start date NOT NULL,
  team text NOT NULL,
  active_people integer NOT NULL,
  PRIMARY KEY (connection_id, week_start, team)
);
CREATE INDEX weekly_team_activity_organization_idx ON weekly_team_activity (organization_id, week_start);
