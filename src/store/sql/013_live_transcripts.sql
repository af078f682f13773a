-- 013: live transcripts. Twilio's real-time transcription sends the call's speech as it is
-- spoken (POST /webhooks/twilio/transcription); the final segments are kept here in Twilio's
-- sequence order (partials only go to the agent's event stream). With [stt] source = live
-- they are assembled into the call's transcript at its end (job stt.live_transcript), which
-- then has no recording: transcripts.source says where a transcript came from. Written to run
-- again harmlessly (IF NOT EXISTS), as tests that rewind the migration table expect.

-- One row per call whose live transcription started: what the handler heard of it, and when
-- the transcript was last assembled from its segments (a final segment arriving after that
-- queues the assembly again).
CREATE TABLE IF NOT EXISTS live_transcriptions (
        call_id            uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        transcription_sid  text,
        started_at         timestamptz NOT NULL DEFAULT now(),
        stopped_at         timestamptz,
        error              text,
        finalized_at       timestamptz
);
CREATE INDEX IF NOT EXISTS live_transcriptions_started ON live_transcriptions (started_at); -- retention

-- Final segments, once each: Twilio's SequenceId orders them (a duplicate delivery is
-- ignored, a late or reordered one lands in its place).
CREATE TABLE IF NOT EXISTS transcript_segments (
        call_id      uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        sequence     bigint NOT NULL CHECK (sequence >= 0),
        speaker      text NOT NULL CHECK (speaker IN ('agent', 'customer')),
        text         text NOT NULL,
        final        boolean NOT NULL DEFAULT true,
        confidence   double precision,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (call_id, sequence)
);

-- A live transcript belongs to its call, not to a recording: one per call.
ALTER TABLE transcripts
        ALTER COLUMN recording_id DROP NOT NULL,
        ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'batch'
            CHECK (source IN ('batch', 'live')),
        DROP CONSTRAINT IF EXISTS transcripts_source_recording,
        ADD CONSTRAINT transcripts_source_recording
            CHECK ((source = 'live') = (recording_id IS NULL));
CREATE UNIQUE INDEX IF NOT EXISTS transcripts_live_call ON transcripts (call_id)
        WHERE source = 'live';
