-- 017: the search's number is the party's (issue 15 made an outbound call's from_e164 the
-- caller id Twilio dialled from — our own number, on every outbound call): the number dialled
-- for an outbound call, the caller's for an inbound one. The trigram index follows the new
-- expression; keep it identical to SEARCH_NUMBERS in src/store/calls.c.
DROP INDEX IF EXISTS calls_search_numbers;

DO $$
BEGIN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                EXECUTE 'CREATE INDEX IF NOT EXISTS calls_search_party_number ON calls USING gin'
                        ' ((CASE WHEN direction = ''inbound'' THEN coalesce(from_e164, '''')'
                        ' ELSE to_e164 END) gin_trgm_ops)';
        END IF;
END
$$;
