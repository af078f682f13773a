-- 003: recordings at rest (sealed blobs in storage), playback, retention.

ALTER TABLE recordings
        ADD COLUMN storage_key   text,             -- where the sealed blob lives
        ADD COLUMN content_type  text,             -- audio/wav | audio/mpeg | audio/ogg | audio/webm
        ADD COLUMN bytes         bigint,           -- plaintext size
        ADD COLUMN sha256        text,             -- of the plaintext, lower hex
        ADD COLUMN key_id        text,             -- the key the blob is sealed with
        ADD COLUMN stored_at     timestamptz,
        ADD COLUMN deleted_at    timestamptz,      -- retention removed the blob
        ADD COLUMN provider_deleted_at timestamptz, -- deleted at the provider after storing
        ADD COLUMN last_error    text;
ALTER TABLE recordings ADD CONSTRAINT recordings_state
        CHECK (state IN ('pending', 'stored', 'failed', 'deleted'));
CREATE INDEX recordings_expiry ON recordings (created_at) WHERE deleted_at IS NULL;

-- A call under legal hold keeps its recordings and transcripts past retention.
ALTER TABLE calls ADD COLUMN legal_hold boolean NOT NULL DEFAULT false;

-- What the retention sweeper removed, for audits.
CREATE TABLE retention_log (
        id            bigserial PRIMARY KEY,
        recording_id  uuid NOT NULL,
        call_id       uuid NOT NULL,
        storage_key   text,
        created_at    timestamptz NOT NULL,        -- when the recording was made
        deleted_at    timestamptz NOT NULL DEFAULT now()
);
