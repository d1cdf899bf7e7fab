-- Stakeholder subscriptions: a user or team that receives the status updates of a business service
-- (`GET /business_services/{id}/subscribers`). PagerDuty returns no time with a subscription, so
-- `first_seen_at` is the start of the first sync that read it and `synced_at` of the latest.
-- A subscription missing from a complete pass gets `deleted_at`.
CREATE TABLE pd_notification_subscriptions (
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  subscribable_type text NOT NULL,
  subscribable_id text NOT NULL,
  subscriber_type text NOT NULL,
  subscriber_id text NOT NULL,
  first_seen_at timestamptz NOT NULL,
  synced_at timestamptz NOT NULL,
  deleted_at timestamptz,
  PRIMARY KEY (connection_id, subscribable_type, subscribable_id, subscriber_type, subscriber_id)
);
CREATE INDEX pd_notification_subscriptions_subscriber_idx ON pd_notification_subscriptions (connection_id, subscriber_type, subscriber_id);
