-- 015: who a call was with, as the CRM lookup named them (issue 14): the matched record's
-- name, company and link, written when the call is created (the cached lookup at initiate,
-- the inbound voice webhook's lookup) or when crm.log_call links the record. GET /api/calls
-- searches them (?q=) with the wrap-up's disposition and notes, and the numbers. Written to
-- run again harmlessly (IF NOT EXISTS), as tests that rewind the migration table expect.
ALTER TABLE calls
        ADD COLUMN IF NOT EXISTS party_name    text,
        ADD COLUMN IF NOT EXISTS party_company text,
        ADD COLUMN IF NOT EXISTS party_url     text;

-- An inbound call bridged through a conference: the caller's leg is answered as it joins the
-- conference, before the agent picks up, so the call counts as answered (answered_at) only
-- when the agent's participant answers (POST /webhooks/twilio/participant). Set by the voice
-- webhook just before it adds the agent; the status callbacks then leave answered_at alone.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS answer_on_join boolean NOT NULL DEFAULT false;

-- A transfer to another agent, once done, makes the call theirs (agent); the agent it came
-- from is kept so that their retry of the transfer is still answered as one.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS transferred_from text;

-- The search: substring matches (ILIKE '%term%') over one text per call. With pg_trgm (in
-- Debian's postgresql-15 package; a trusted extension: the database owner may create it)
-- trigram indexes serve them; without it (no privilege, another packaging) the search still
-- works, scanning the agent's calls (calls_agent_created) under the page's LIMIT.
DO $$
BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm unavailable (%): call search runs without trigram indexes', SQLERRM;
END
$$;

DO $$
BEGIN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                -- Keep these expressions identical to the ones in src/store/calls.c.
                EXECUTE 'CREATE INDEX IF NOT EXISTS calls_search_text ON calls USING gin'
                        ' ((coalesce(party_name, '''') || '' '' || coalesce(party_company, '''')'
                        ' || '' '' || coalesce(disposition, '''') || '' '' || coalesce(notes, ''''))'
                        ' gin_trgm_ops)';
                EXECUTE 'CREATE INDEX IF NOT EXISTS calls_search_numbers ON calls USING gin'
                        ' ((to_e164 || '' '' || coalesce(from_e164, '''')) gin_trgm_ops)';
        END IF;
END
$$;
