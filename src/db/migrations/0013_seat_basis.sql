-- Seat rows come from PagerDuty licenses ('license') or, when PagerDuty does not let Seatwise read
-- licenses, from each person's role grouped into Full User and Stakeholder ('role').
ALTER TABLE seat_summaries ADD COLUMN basis text NOT NULL DEFAULT 'license' CHECK (basis IN ('license', 'role'));
