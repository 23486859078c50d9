-- 002_oauth_clients.sql — the applications that may obtain tokens.
--
-- One row per OAuth client: a department's iOS/Android app, mini-program or
-- web app, a third-party integrator, or a department service calling other
-- services. Confidential clients authenticate with a secret; only its keyed
-- hash is stored (HMAC-SHA256 under a key derived from the master key, hex),
-- and during a rotation the previous secret's hash stays valid until
-- previous_secret_expires_at. Public clients (mobile apps, mini-programs,
-- SPAs) have no secret and must use PKCE. Lists are stored space-separated
-- (grant types, scopes) or as a JSON array (redirect URIs, compared exactly).
CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
    name VARCHAR(128) NOT NULL,
    kind ENUM('ios', 'android', 'mini_program', 'web', 'third_party', 'department_service') NOT NULL,
    owner VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'owning department or third party',
    first_party TINYINT(1) NOT NULL DEFAULT 0,
    confidential TINYINT(1) NOT NULL,
    secret_hash CHAR(64) CHARACTER SET ascii NULL,
    previous_secret_hash CHAR(64) CHARACTER SET ascii NULL,
    previous_secret_expires_at DATETIME(6) NULL,
    redirect_uris TEXT NOT NULL DEFAULT '[]' CHECK (JSON_VALID(redirect_uris)),
    allowed_scopes VARCHAR(2048) NOT NULL DEFAULT '',
    grant_types VARCHAR(256) CHARACTER SET ascii NOT NULL,
    status ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (client_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
