-- 006: the telephony reconciler (telephony.reconcile) looks for calls whose provider webhooks
-- were lost: still not final a while after their last change. Few calls are unfinished at any
-- moment, so a partial index keeps that scan small however many calls have ended.
CREATE INDEX calls_unfinished ON calls (updated_at)
        WHERE provider_call_id IS NOT NULL AND cb_status_rank(status) < 4;
