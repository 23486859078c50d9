-- 005_legal_person_grants.sql — a grant made while acting for a legal person
-- (法人). The person signs in as themselves; the authorization code (browser
-- flow) and the refresh-token family remember the legal person's unified
-- social credit code, so every access token they yield carries it as `org`
-- (and the proxy path forwards it as X-Gateway-Org). Whether the person may
-- still act for it is checked again when the code is issued, when it is
-- redeemed and at every refresh (auth/legal_persons.h).
--
-- Conventions as in 003: every statement can run twice.

ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS
    org CHAR(18) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'credit code of the legal person acted for' AFTER scope;

-- A family whose person was removed as the legal person's agent is revoked at
-- its next refresh.
ALTER TABLE refresh_tokens MODIFY COLUMN
    revoke_reason ENUM('reuse', 'client_mismatch', 'session_ended', 'account_disabled', 'admin', 'client_revoked',
                       'agent_removed') NULL;

-- The code of a browser sign-in with `org` carries the credit code to the
-- token request, which puts it on the family and the tokens.
ALTER TABLE authorization_codes ADD COLUMN IF NOT EXISTS
    org CHAR(18) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'credit code of the legal person acted for' AFTER scope;
