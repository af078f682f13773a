-- Jobs told to wait (429, an exhausted CRM allowance, a budget hold) are rescheduled without
-- spending an attempt; `waits` counts those reschedules so the wait can grow, and operators
-- see it in `callbridge jobs list`.
ALTER TABLE jobs ADD COLUMN waits integer NOT NULL DEFAULT 0;
