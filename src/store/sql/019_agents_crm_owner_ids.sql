-- 019 (issue 16): an agent's crm_user_id is the id of its user in the CRM that runs, as that
-- provider's user_id_canon op has it: a Salesforce User id (18 characters, 005...), a HubSpot
-- owner id (digits), or a plain token without a CRM. It still owns the call's records and
-- routes the caller's record owner to the agent; still one agent per id.
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_crm_user_id_check;
ALTER TABLE agents ADD CONSTRAINT agents_crm_user_id_check
        CHECK (crm_user_id ~ '^[0-9A-Za-z._@:-]{1,64}$');
