-- 004: transcripts and their analysis. The transcript text, segments and summary are a sealed
-- document in storage (storage_key); only the analysis results live here in the clear.

CREATE TABLE transcripts (
        id               uuid PRIMARY KEY,
        call_id          uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        recording_id     uuid NOT NULL UNIQUE REFERENCES recordings (id) ON DELETE CASCADE,
        engine           text NOT NULL,
        language         text,
        audio_seconds    double precision,
        stt_ms           integer,                  -- time the engine took (the rest is ours)
        words            integer,
        storage_key      text NOT NULL,
        sentiment        double precision,
        sentiment_label  text,
        intent           text,
        tags             jsonb NOT NULL DEFAULT '[]',
        keywords         jsonb NOT NULL DEFAULT '[]',
        entities         jsonb NOT NULL DEFAULT '[]',
        follow_ups       jsonb NOT NULL DEFAULT '[]',
        transcribed_at   timestamptz NOT NULL,
        analysed_at      timestamptz NOT NULL DEFAULT now(),
        crm_written_at   timestamptz,
        deleted_at       timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transcripts_call ON transcripts (call_id);
