-- 014: browser sessions (issue 14). The console signs in with an API key or with Salesforce
-- (OAuth 2.0 web server flow + PKCE) and then holds an HttpOnly cookie `cb_session`: an opaque
-- random token of which only the SHA-256 is kept here. csrf_token is what cookie-authenticated
-- writes must echo in X-CSRF-Token. A Salesforce session keeps the user's access token sealed
-- with the recording keyring (sf_token, never plain), to ask Salesforce what that user may see.
-- Written to run again harmlessly (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS sessions (
        id            uuid PRIMARY KEY,
        token_hash    bytea NOT NULL UNIQUE,
        agent         text NOT NULL,
        csrf_token    text NOT NULL,
        how           text NOT NULL CHECK (how IN ('api_key', 'salesforce')),
        sf_user_id    text,
        sf_token      bytea,
        user_agent    text,
        ip_hash       text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        revoked_at    timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent);
-- The revocation watcher asks every instance twice a second for sessions revoked lately.
CREATE INDEX IF NOT EXISTS sessions_revoked_at ON sessions (revoked_at)
        WHERE revoked_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);

-- Salesforce sign-ins under way: the state (hashed), the PKCE verifier and where to go back,
-- for ten minutes and one use (the callback deletes the row it consumes).
CREATE TABLE IF NOT EXISTS oauth_logins (
        state_hash  bytea PRIMARY KEY,
        verifier    text NOT NULL,
        return_to   text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_logins_expires_at ON oauth_logins (expires_at);
