-- 012: call control (POST /api/calls/{id}/hangup|hold|transfer|recording). One row per call
-- an agent acted on: what is in effect now, so that a repeated action is answered from here
-- without asking the provider again. `version` orders the writes: an action is recorded only
-- over the version it was decided from (a concurrent action wins, nothing is half-written).
--
-- The actions themselves are history: call_events rows with source 'agent' and the action's
-- name as status ('hold', 'unhold', 'transfer', 'transfer_started', 'transfer_completed',
-- 'transfer_canceled', 'hangup', 'recording_paused', 'recording_resumed'). They never touch
-- the lifecycle: the provider-once index (002) covers source 'twilio' only, and the status
-- statements (src/store/lifecycle.c) rank only the events they insert themselves.
CREATE TABLE call_controls (
        call_id           uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        held              boolean NOT NULL DEFAULT false,
        recording_paused  boolean NOT NULL DEFAULT false,
        hung_up           boolean NOT NULL DEFAULT false,
        transfer          text NOT NULL DEFAULT 'none'
                          CHECK (transfer IN ('none', 'pending', 'done')),
        transfer_warm     boolean NOT NULL DEFAULT false,
        transfer_to       text,                  -- an agent name or an E.164 number
        version           integer NOT NULL DEFAULT 0,
        updated_at        timestamptz NOT NULL DEFAULT now()
);
