-- 005_legal_person_grants.sql — a grant made while acting for a legal person
-- (法人). The person signs in as themselves; the refresh-token family
-- remembers the legal person's unified social credit code, so every access
-- token it yields carries it as `org` (and the proxy path forwards it as
-- X-Gateway-Org). Whether the person may still act for it is checked again at
-- every refresh (auth/legal_persons.h).
--
-- Conventions as in 003: every statement can run twice.

ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS
    org CHAR(18) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'credit code of the legal person acted for' AFTER scope;

-- A family whose person was removed as the legal person's agent is revoked at
-- its next refresh.
ALTER TABLE refresh_tokens MODIFY COLUMN
    revoke_reason ENUM('reuse', 'client_mismatch', 'session_ended', 'account_disabled', 'admin', 'client_revoked',
                       'agent_removed') NULL;
