-- 019 (issue 16): an agent's crm_user_id is the id of its user in the CRM that runs: a
-- Salesforce User id (18 characters, 005...) or a HubSpot owner id (digits). It still owns the
-- call's records and routes the caller's record owner to the agent; still one agent per id.
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_crm_user_id_check;
ALTER TABLE agents ADD CONSTRAINT agents_crm_user_id_check
        CHECK (crm_user_id ~ '^005[0-9A-Za-z]{15}$' OR crm_user_id ~ '^[0-9]{1,12}$');
