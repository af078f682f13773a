-- 009: the agent's wrap-up. `disposition` (002) now holds the value the agent posted
-- (POST /api/calls/{id}/disposition, one of [agents] dispositions); the notes the agent typed
-- get their own column, which only that endpoint writes, so status webhooks, the CRM log and
-- the analysis write-back never overwrite them.

ALTER TABLE calls
        ADD COLUMN notes        text,                -- what the agent typed (NULL: none)
        ADD COLUMN disposed_at  timestamptz,         -- when the wrap-up was last posted
        ADD COLUMN disposed_by  text;                -- the agent (or admin) who posted it
