-- 001_initial.sql — the keys that sign the gateway's tokens.
--
-- Migrations are history: once applied anywhere, a file is never edited
-- (yiwang migrate refuses to run when an applied file's checksum changed);
-- later changes go into new files. MariaDB commits DDL implicitly, so a file
-- is not one atomic step: write each statement so that running the file again
-- after a partial failure is harmless (CREATE TABLE IF NOT EXISTS, ...), or
-- keep one DDL statement per file. `schema_migrations` is created by the
-- migrate command itself.

-- One row per signing key. The private key is stored encrypted with the
-- master key (identity.master_key_file), which never enters the database:
-- AES-256-GCM, stored as nonce (12 bytes) || ciphertext || tag (16 bytes).
-- Lifecycle: active (signs new tokens; one per alg) -> previous (still
-- verifies tokens it signed) -> retired (kept for audit, no longer trusted).
CREATE TABLE IF NOT EXISTS signing_keys (
    kid VARCHAR(64) NOT NULL,
    alg ENUM('ES256', 'RS256') NOT NULL,
    public_pem TEXT NOT NULL,
    private_key_ciphertext VARBINARY(8192) NOT NULL,
    state ENUM('active', 'previous', 'retired') NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    activated_at DATETIME(6) NULL,
    retired_at DATETIME(6) NULL,
    PRIMARY KEY (kid),
    KEY signing_keys_state (state, alg)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
