-- The incidents whose status update subscribers (`GET /incidents/{id}/status_updates/subscribers`)
-- a sync has read, with the incident's status and last status change as they were at that read.
-- Each incident costs one request, so an incremental run reads an incident again only when either
-- has changed since. The subscriptions themselves go to pd_notification_subscriptions with
-- `subscribable_type` 'incident'.
CREATE TABLE pd_incident_subscriber_reads (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  incident_id text NOT NULL,
  status text NOT NULL,
  status_changed_at timestamptz NOT NULL,
  read_at timestamptz NOT NULL,
  PRIMARY KEY (connection_id, incident_id)
);
