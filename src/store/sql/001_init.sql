-- 001: agents, API keys, calls and their status history, the durable job queue.
-- Times are UTC (timestamptz); the daemon never stores local time.

CREATE TABLE api_keys (
        key_id      text PRIMARY KEY,            -- public part: "cbk_<key_id>_<secret>"
        key_hash    bytea NOT NULL,              -- SHA-256 of the whole key
        agent       text NOT NULL,               -- the softphone identity the key acts as
        admin       boolean NOT NULL DEFAULT false,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
);
CREATE INDEX api_keys_agent ON api_keys (agent);

CREATE TABLE calls (
        id               uuid PRIMARY KEY,
        agent            text NOT NULL,
        direction        text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        to_e164          text NOT NULL,
        from_e164        text,
        status           text NOT NULL,
        crm_record_id    text,
        telephony        text NOT NULL,          -- provider name: twilio | none
        provider_call_id text,                   -- e.g. Twilio CallSid
        crm              text NOT NULL,          -- provider name: salesforce | none
        crm_state        text NOT NULL DEFAULT 'pending'
                         CHECK (crm_state IN ('pending', 'synced', 'local', 'failed')),
        crm_log_id       text,
        idempotency_key  text,
        request_hash     bytea,                  -- SHA-256 of the normalised request
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX calls_idempotency ON calls (agent, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
CREATE INDEX calls_created ON calls (created_at DESC, id DESC);
CREATE INDEX calls_agent_created ON calls (agent, created_at DESC, id DESC);
CREATE UNIQUE INDEX calls_provider_call ON calls (telephony, provider_call_id)
        WHERE provider_call_id IS NOT NULL;

CREATE TABLE call_events (
        id       bigserial PRIMARY KEY,
        call_id  uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        status   text NOT NULL,
        source   text NOT NULL,                  -- api | twilio | job
        at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_events_call ON call_events (call_id, id);

-- The job queue. A row is claimable when state is 'queued' or 'running' and available_at
-- has passed: for 'queued' it is the earliest run time (backoff), for 'running' the end of
-- the worker's lease, so a job whose worker died is claimed again.
CREATE TABLE jobs (
        id            bigserial PRIMARY KEY,
        kind          text NOT NULL,
        call_id       uuid REFERENCES calls (id) ON DELETE CASCADE,
        payload       jsonb NOT NULL DEFAULT '{}',
        state         text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'done', 'dead')),
        attempts      integer NOT NULL DEFAULT 0,
        available_at  timestamptz NOT NULL DEFAULT now(),
        locked_by     text,
        last_error    text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        finished_at   timestamptz
);
CREATE INDEX jobs_claimable ON jobs (available_at) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_call ON jobs (call_id);
CREATE INDEX jobs_running_owner ON jobs (locked_by) WHERE state = 'running';
CREATE INDEX jobs_dead ON jobs (kind) WHERE state = 'dead';

-- RFC 3339 UTC text for API responses.
CREATE FUNCTION cb_ts(t timestamptz) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
