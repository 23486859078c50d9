-- 003_accounts_sessions.sql — people, enterprises, SMS codes, login
-- throttling, SSO sessions and refresh tokens.
--
-- Conventions (schemas/sql/README.md): every statement can run twice; times
-- are DATETIME(6) in UTC (each connection sets time_zone = '+00:00', and the
-- code compares with UTC_TIMESTAMP(6) of the database, so every gateway node
-- of a cluster shares one clock). Ids that are random base64url text are
-- ascii_bin: base64url is case-sensitive, and a case-insensitive collation
-- would make two different ids equal. Secrets are never stored: session ids
-- and refresh tokens as HMAC-SHA256 under the "token hash" key, SMS codes as
-- HMAC-SHA256 under their own key, resident ID numbers sealed with
-- AES-256-GCM plus a keyed-hash index (docs/identity-data.md).

-- Natural persons (自然人). `id` is 128 random bits in base64url: the `sub` of
-- their tokens, opaque and not enumerable. Registration by SMS creates the
-- row with the mobile number only (assurance level 1); name, email and the
-- resident ID number come with real-name verification.
CREATE TABLE IF NOT EXISTS accounts (
    id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    mobile CHAR(11) CHARACTER SET ascii NOT NULL COMMENT 'normal form of auth/identifiers.h: 11 digits',
    name VARCHAR(64) NULL,
    email VARCHAR(254) NULL,
    id_number_sealed VARBINARY(64) NULL COMMENT 'AES-256-GCM, associated data accounts.id_number:<id>',
    id_number_index BINARY(32) NULL COMMENT 'HMAC-SHA256 (id-number index key) of the normalised number',
    assurance_level TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 registered, 2 real-name verified, 3 verified in person',
    status ENUM('active', 'locked', 'disabled') NOT NULL DEFAULT 'active',
    password_hash VARCHAR(160) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'Argon2id PHC string; NULL: no password set',
    password_changed_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY accounts_mobile (mobile),
    UNIQUE KEY accounts_id_number (id_number_index),
    CONSTRAINT accounts_assurance_level CHECK (assurance_level BETWEEN 1 AND 3),
    CONSTRAINT accounts_id_number_pair CHECK ((id_number_sealed IS NULL) = (id_number_index IS NULL))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every raise of an assurance level, with who made it and on what evidence
-- (a reference such as the verification service's transaction id, never the
-- ID number itself). Levels are only ever raised by an authorised caller.
CREATE TABLE IF NOT EXISTS account_assurance_events (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    from_level TINYINT UNSIGNED NOT NULL,
    to_level TINYINT UNSIGNED NOT NULL,
    actor VARCHAR(128) NOT NULL,
    evidence VARCHAR(256) NOT NULL DEFAULT '',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY account_assurance_events_account (account_id, created_at),
    CONSTRAINT account_assurance_events_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Legal persons (法人): enterprises and organisations, by their unified
-- social credit code (public, printed on every licence; normalised upper case).
CREATE TABLE IF NOT EXISTS legal_persons (
    id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name VARCHAR(200) NOT NULL,
    uscc CHAR(18) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY legal_persons_uscc (uscc)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Which natural persons may act for which legal person, and as what. Looked
-- up both ways: "who acts for this company" (primary key) and "for which
-- companies may this person act" (the account index).
CREATE TABLE IF NOT EXISTS legal_person_agents (
    legal_person_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    role ENUM('legal_representative', 'administrator', 'agent') NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (legal_person_id, account_id),
    KEY legal_person_agents_account (account_id),
    CONSTRAINT legal_person_agents_legal_person_fk FOREIGN KEY (legal_person_id) REFERENCES legal_persons (id) ON DELETE CASCADE,
    CONSTRAINT legal_person_agents_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The current SMS code of a mobile number for one purpose: one row per
-- (mobile, purpose), so sending a new code replaces the old one and the
-- cooldown and the daily count are checked and updated by one atomic UPDATE
-- on that row (two parallel sends cannot both pass). code_hash is
-- HMAC-SHA256 of mobile, purpose and code under the SMS-code key: a dump
-- reveals no code, and a 6-digit space cannot be searched without the key.
CREATE TABLE IF NOT EXISTS sms_codes (
    mobile CHAR(11) CHARACTER SET ascii NOT NULL,
    purpose ENUM('login', 'password') NOT NULL,
    code_hash BINARY(32) NULL COMMENT 'NULL until the first code is sent',
    expires_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    attempts TINYINT UNSIGNED NOT NULL DEFAULT 0,
    used TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_sent_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    sent_day DATE NOT NULL DEFAULT '1970-01-01' COMMENT 'China Standard Time day of sent_on_day',
    sent_on_day SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (mobile, purpose),
    KEY sms_codes_expiry (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- SMS codes requested per client IP per day (China Standard Time), for the
-- daily cap that stops one address from spraying codes at many numbers.
CREATE TABLE IF NOT EXISTS sms_ip_quota (
    client_ip VARCHAR(45) CHARACTER SET ascii NOT NULL,
    day DATE NOT NULL,
    sent INT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (client_ip, day),
    KEY sms_ip_quota_day (day)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Brute-force protection (auth/login_guard.h): one row per mobile number and
-- per client IP, whether or not an account exists. An attempt is charged by
-- one UPDATE whose WHERE clause is the lock check, before the password is
-- verified, so parallel attempts cannot evaluate more passwords than the
-- limit; reaching the limit sets locked_until in the same statement.
CREATE TABLE IF NOT EXISTS login_throttle (
    kind ENUM('mobile', 'ip') NOT NULL,
    subject VARCHAR(45) CHARACTER SET ascii NOT NULL,
    failures SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'attempts charged in the current window',
    window_started_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    lockouts SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'locks in a row: the next one lasts twice as long',
    locked_until DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (kind, subject),
    KEY login_throttle_updated (updated_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Single sign-on sessions. The opaque session id (the cookie value, 256
-- random bits) is never stored, only its keyed hash; `sid` is a separate
-- public id that goes into tokens (the sid claim), so an app that reads a
-- token learns nothing that would let it act as the session.
CREATE TABLE IF NOT EXISTS sso_sessions (
    sid CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    id_hash BINARY(32) NOT NULL,
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    acr TINYINT UNSIGNED NOT NULL,
    amr ENUM('sms', 'pwd') NOT NULL,
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'the app the person signed in with',
    auth_time DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_seen_at DATETIME(6) NOT NULL,
    idle_expires_at DATETIME(6) NOT NULL,
    absolute_expires_at DATETIME(6) NOT NULL,
    ended_at DATETIME(6) NULL,
    end_reason ENUM('logout', 'password_changed', 'account_disabled', 'admin') NULL,
    PRIMARY KEY (sid),
    UNIQUE KEY sso_sessions_id_hash (id_hash),
    KEY sso_sessions_account (account_id, ended_at),
    KEY sso_sessions_ended (ended_at),
    CONSTRAINT sso_sessions_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Refresh tokens, one row per token ever issued; a family is the chain of
-- rotations from one login in one app. Rotation marks the used row
-- (used_at, replaced_by) and inserts its successor; a used token presented
-- again revokes the family (RFC 9700 §4.14), except the same client's
-- repeat within the grace window, which gets the same successor back: for
-- that window only the successor's plaintext is kept sealed (AES-256-GCM,
-- associated data refresh_tokens.successor:<hex hash of this row>) and it is
-- wiped as soon as the successor is used, the family revoked or, past
-- sealed_until, by a sweep (auth/refresh_tokens.h).
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash BINARY(32) NOT NULL,
    family_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    parent_hash BINARY(32) NULL COMMENT 'the token this one replaced; NULL for the first of a family',
    client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
    account_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sid CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scope VARCHAR(2048) NOT NULL,
    auth_time DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at DATETIME(6) NOT NULL,
    used_at DATETIME(6) NULL,
    replaced_by BINARY(32) NULL,
    successor_sealed VARBINARY(96) NULL,
    sealed_until DATETIME(6) NULL COMMENT 'end of the grace window while successor_sealed is kept',
    revoked_at DATETIME(6) NULL,
    revoke_reason ENUM('reuse', 'client_mismatch', 'session_ended', 'account_disabled', 'admin') NULL,
    PRIMARY KEY (token_hash),
    KEY refresh_tokens_family (family_id),
    KEY refresh_tokens_session (sid),
    KEY refresh_tokens_expiry (expires_at),
    KEY refresh_tokens_sealed (sealed_until),
    CONSTRAINT refresh_tokens_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_session_fk FOREIGN KEY (sid) REFERENCES sso_sessions (sid) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
