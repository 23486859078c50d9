-- 004_browser_sign_in.sql — the browser sign-in flow (authorization codes,
-- consent), RP-initiated logout and the revocation of single access tokens.
--
-- Conventions as in 003: every statement can run twice, times are
-- DATETIME(6) in UTC compared with the database's UTC_TIMESTAMP(6), random
-- ids are ascii_bin, secrets are stored only as HMAC-SHA256 under the
-- "token hash" key.

-- Authorization codes (RFC 6749 §4.1, auth/authz_codes.h). One row per code,
-- kept after its use: a second use must find the row to revoke what the first
-- use issued (RFC 6749 §4.1.2), so redeeming records the refresh-token family
-- and the access token's jti here. The code itself is never stored. Everything
-- the code was issued for is bound to it: the client, the exact redirect URI,
-- the PKCE challenge (S256), the OIDC nonce, the SSO session and the scope.
CREATE TABLE IF NOT EXISTS authorization_codes (
    code_hash BINARY(32) NOT NULL,
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
    redirect_uri VARCHAR(2000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_challenge CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'S256; NULL: a confidential client without PKCE',
    nonce VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NULL,
    sid CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scope VARCHAR(2048) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at DATETIME(6) NOT NULL,
    used_at DATETIME(6) NULL,
    family_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'refresh-token family issued for the code',
    access_jti CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'access token issued for the code',
    access_expires_at DATETIME(6) NULL,
    PRIMARY KEY (code_hash),
    KEY authorization_codes_expiry (expires_at),
    CONSTRAINT authorization_codes_session_fk FOREIGN KEY (sid) REFERENCES sso_sessions (sid) ON DELETE CASCADE,
    CONSTRAINT authorization_codes_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- What a person has approved for a third-party client: the union of every
-- scope set approved so far. A request within it needs no consent page.
CREATE TABLE IF NOT EXISTS oauth_consents (
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
    scope VARCHAR(2048) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (account_id, client_id),
    CONSTRAINT oauth_consents_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Access tokens revoked one by one (RFC 7009, or a reused authorization
-- code), by jti. Every gateway node reads the rows whose token could still be
-- valid (expires_at plus the clock skew) into its revocation set once a
-- second (gateway/revocation_sync.h); older rows are useless and may go.
CREATE TABLE IF NOT EXISTS revoked_access_tokens (
    jti VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
    expires_at DATETIME(6) NOT NULL COMMENT 'the token''s exp',
    revoked_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    reason ENUM('client_revoked', 'code_reuse') NOT NULL,
    PRIMARY KEY (jti),
    KEY revoked_access_tokens_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Where a client may send the browser after RP-initiated logout: exact URIs,
-- like redirect_uris, so the logout endpoint is no open redirector.
ALTER TABLE oauth_clients ADD COLUMN IF NOT EXISTS
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]' CHECK (JSON_VALID(post_logout_redirect_uris));

-- A client revoking its own refresh token (RFC 7009) is a reason of its own.
ALTER TABLE refresh_tokens MODIFY COLUMN
    revoke_reason ENUM('reuse', 'client_mismatch', 'session_ended', 'account_disabled', 'admin', 'client_revoked') NULL;
