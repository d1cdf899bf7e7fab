-- Faster crunches: the crunch writes about one `activity_daily` row per person, feature and day,
-- over a million for a large account, and each row paid for two foreign-key checks and an index
-- that no query reads. The dashboard filters this table by organization and day, never by
-- connection, feature and day.
ALTER TABLE activity_daily DROP CONSTRAINT activity_daily_connection_id_fkey;
ALTER TABLE activity_daily DROP CONSTRAINT activity_daily_organization_id_fkey;
DROP INDEX activity_daily_feature_day_idx;

-- Without the foreign keys, these triggers keep ON DELETE CASCADE: deleting a connection or an
-- organization still deletes its activity facts. They cost nothing when rows are inserted.
CREATE FUNCTION delete_connection_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM activity_daily WHERE connection_id = OLD.id;
  RETURN OLD;
END;
$$;
CREATE TRIGGER connections_delete_activity AFTER DELETE ON connections
  FOR EACH ROW EXECUTE FUNCTION delete_connection_activity();

CREATE FUNCTION delete_organization_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM activity_daily WHERE organization_id = OLD.id;
  RETURN OLD;
END;
$$;
CREATE TRIGGER organizations_delete_activity AFTER DELETE ON organizations
  FOR EACH ROW EXECUTE FUNCTION delete_organization_activity();
