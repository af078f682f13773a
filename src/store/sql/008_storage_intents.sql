-- 009: storage intents. Every writer notes a blob's key here before it writes the blob, so a
-- blob whose row never committed (a lost COMMIT reply, a process killed between the blob and
-- its row) is still known: the retention sweep removes it after [retention] orphan_grace_s
-- unless a row names it, and forgets the intent either way.

CREATE TABLE storage_intents (
        key         text PRIMARY KEY,                 -- "recordings/<id>" | "transcripts/<id>"
        created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX storage_intents_age ON storage_intents (created_at);

-- The sweep asks, per intent, whether a row names the key.
CREATE INDEX recordings_storage_key ON recordings (storage_key) WHERE storage_key IS NOT NULL;
CREATE INDEX transcripts_storage_key ON transcripts (storage_key);
