-- 002: the call lifecycle driven by telephony webhooks (statuses, durations, dedupe) and the
-- provider recordings they announce.

ALTER TABLE calls
        ADD COLUMN duration_s   integer,             -- talk time from the provider's final status
        ADD COLUMN answered_at  timestamptz,
        ADD COLUMN ended_at     timestamptz,
        ADD COLUMN disposition  text;                -- the agent's wrap-up, or a rule's

-- Order of the lifecycle: a status may only replace one of lower rank, so a late or replayed
-- webhook never moves a call backwards. The five final statuses share the top rank: the
-- first one recorded stays.
CREATE FUNCTION cb_status_rank(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE s WHEN 'queued' THEN 0 WHEN 'initiated' THEN 1 WHEN 'ringing' THEN 2
                      WHEN 'in-progress' THEN 3
                      WHEN 'completed' THEN 4 WHEN 'busy' THEN 4 WHEN 'failed' THEN 4
                      WHEN 'no-answer' THEN 4 WHEN 'canceled' THEN 4 ELSE -1 END $$;

-- Twilio retries and duplicates its callbacks: one event per (call, status) from it.
CREATE UNIQUE INDEX call_events_provider_once ON call_events (call_id, status)
        WHERE source = 'twilio';

CREATE TABLE recordings (
        id            uuid PRIMARY KEY,
        call_id       uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        provider      text NOT NULL,                 -- twilio | upload
        provider_sid  text,                          -- e.g. Twilio RecordingSid
        source_url    text,                          -- where the provider serves the media
        duration_s    integer,
        state         text NOT NULL DEFAULT 'pending',
        created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX recordings_provider_sid ON recordings (provider, provider_sid)
        WHERE provider_sid IS NOT NULL;
CREATE INDEX recordings_call ON recordings (call_id);
