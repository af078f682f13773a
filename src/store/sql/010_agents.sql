-- Agents as records (issue 13): the identity API keys act as (api_keys.agent) and calls
-- belong to (calls.agent), with what an admin says about it. agents.admin is the truth for
-- admin rights (src/http/auth.c reads it with the key); api_keys.admin stays as written when
-- the key was made, for binaries that predate this migration. crm_user_id is a Salesforce
-- User id in its 18-character form (callbridge canonicalises 15-character ids before
-- writing): it owns the call's Tasks and routes the caller's record owner to this agent.
CREATE TABLE agents (
        name         text PRIMARY KEY,
        display_name text,
        crm_user_id  text CHECK (crm_user_id ~ '^005[0-9A-Za-z]{15}$'),
        phone        text CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
        admin        boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One agent per CRM user: inbound routing maps an owner to exactly one agent.
CREATE UNIQUE INDEX agents_crm_user_id ON agents (crm_user_id) WHERE crm_user_id IS NOT NULL;
-- The key watcher asks twice a second for agents changed lately (admin rights granted or
-- taken away) to drop their keys from every instance's cache.
CREATE INDEX agents_updated_at ON agents (updated_at);

-- Every agent that already has keys (admin when any of its live keys is: a revoked key gave
-- no rights), then every agent that calls were recorded for, except the placeholder of calls
-- nobody took.
INSERT INTO agents (name, admin)
        SELECT agent, bool_or(admin AND revoked_at IS NULL) FROM api_keys GROUP BY agent
ON CONFLICT (name) DO NOTHING;
INSERT INTO agents (name)
        SELECT DISTINCT agent FROM calls WHERE agent <> 'unassigned'
ON CONFLICT (name) DO NOTHING;
