-- The crunch writes about one `activity_daily` row per person, feature and day: close to two
-- million rows for 5,000 people over a year. A primary key on (connection, person, feature, day)
-- made the first crunch sort every row and compare text keys for each index entry, about a third
-- of its time. The crunch keeps the rows unique itself: it inserts only keys it found missing, and
-- one crunch at a time runs per connection (a transaction-level advisory lock). Its reads and the
-- deletion triggers need only the connection and a range of days.
ALTER TABLE activity_daily DROP CONSTRAINT activity_daily_pkey;
CREATE INDEX activity_daily_connection_day_idx ON activity_daily (connection_id, day);
