-- API keys: when each was last used (to within a few seconds: instances record use in
-- batches), and an index for the revocation watcher, which every instance runs twice a second.
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
CREATE INDEX api_keys_revoked_at ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;
