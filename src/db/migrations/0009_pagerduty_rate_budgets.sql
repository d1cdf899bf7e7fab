-- One PagerDuty request budget per connection, shared by every process on this database. PagerDuty
-- counts its rate limit per token, and a connection's requests can come from several processes at
-- once (a sync on one worker, a "Sync now" or keep-alive on another). `tokens` is a token bucket as
-- of `refilled_at`; `paused_until` stops every request of the connection after a 429 or an
-- exhausted `ratelimit-remaining`. `last_grant` is how many tokens the latest take removed, since a
-- process takes several at once for requests already waiting. Times come from the database clock,
-- so process clocks may differ.
CREATE TABLE pagerduty_rate_budgets (
  budget_key text PRIMARY KEY,
  tokens double precision NOT NULL,
  refilled_at timestamptz NOT NULL,
  paused_until timestamptz,
  last_grant integer NOT NULL DEFAULT 0
);
