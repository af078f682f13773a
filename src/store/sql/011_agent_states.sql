-- 011: agent states (issue 13 item 3). One row per agent: what routing and the softphone see
-- (available, busy, wrap_up, away, offline), since when, the call behind busy/wrap_up, when
-- wrap-up may end, and the rep's own choice to return to once the automatic state ends.
-- The C module src/calls/agent_state.c decides every change; this only stores it.

CREATE TABLE agent_status (
        agent          text PRIMARY KEY,
        status         text NOT NULL DEFAULT 'available'
                       CHECK (status IN ('available', 'busy', 'wrap_up', 'away', 'offline')),
        reason         text,
        since          timestamptz NOT NULL DEFAULT now(),
        call_id        uuid REFERENCES calls (id) ON DELETE SET NULL,
        wrap_up_until  timestamptz,
        -- The rep's choice while busy or in wrap-up: taken when the automatic state ends.
        next_status    text NOT NULL DEFAULT 'available'
                       CHECK (next_status IN ('available', 'away', 'offline')),
        next_reason    text,
        updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Time in status, for reporting: one row per period, ended_at NULL for the current one.
CREATE TABLE agent_status_log (
        id          bigserial PRIMARY KEY,
        agent       text NOT NULL,
        status      text NOT NULL,
        reason      text,
        call_id     uuid REFERENCES calls (id) ON DELETE SET NULL,
        started_at  timestamptz NOT NULL,
        ended_at    timestamptz
);
CREATE INDEX agent_status_log_agent ON agent_status_log (agent, started_at);
CREATE UNIQUE INDEX agent_status_log_open ON agent_status_log (agent) WHERE ended_at IS NULL;
