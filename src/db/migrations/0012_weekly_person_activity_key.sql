-- The team figures join each person to their active weeks, so the person must lead the key after
-- the connection: keyed by week first, each lookup scanned every week of the connection.
ALTER TABLE weekly_person_activity DROP CONSTRAINT weekly_person_activity_pkey;
ALTER TABLE weekly_person_activity ADD PRIMARY KEY (connection_id, external_id, week_start);
