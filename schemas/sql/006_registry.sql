-- 006_registry.sql — the department service registry (docs/registry.md):
-- departments, their services, routes, scopes and rate policies, the admin
-- accounts that manage them, the audit log of every change, and the version
-- every gateway node polls to rebuild its snapshot.
--
-- Conventions as in 003: every statement can run twice, times are
-- DATETIME(6) in UTC, secrets are stored only as HMAC-SHA256 under the
-- "token hash" key.
--
-- Registry conventions (docs/registry.md §2):
--  - Every entity has a surrogate `id` (what foreign keys use, so a rename
--    touches one row) and a unique `name` (what URLs, references in JSON
--    bodies and the import/export format use). Names are lower-case ASCII,
--    compared byte-wise (ascii_bin) so that no two spellings are equal.
--  - `version` is the registry version (registry_version below) of the last
--    write to the row, set by that write: it is the row's ETag. Taking it from
--    the one global counter, not a per-row counter, means a name that is
--    deleted and created again never repeats an ETag a client may still hold.
--    It has no default on purpose: a write that forgets to bump the registry
--    version fails instead of going unnoticed by the other nodes.
--  - References between registry rows are ON DELETE RESTRICT: deleting
--    something still used is refused by the database, which the admin API
--    turns into 409, and never cascades through another department's data.

-- One row; every registry write runs `UPDATE registry_version SET version =
-- LAST_INSERT_ID(version + 1)` in its own transaction. That row lock orders
-- all registry writes (two admins cannot interleave a check and a write), the
-- value becomes the `version` of the rows written and of their audit rows,
-- and every node polls this row once a second to learn that it must rebuild
-- its snapshot. 0: nothing has been written yet.
CREATE TABLE IF NOT EXISTS registry_version (
    id TINYINT UNSIGNED NOT NULL DEFAULT 1,
    version BIGINT UNSIGNED NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    CONSTRAINT registry_version_single_row CHECK (id = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT IGNORE INTO registry_version (id, version) VALUES (1, 0);

-- Departments (部门), nested province -> city -> county through `parent_id`.
-- region_code is the 6-digit administrative division code (GB/T 2260, e.g.
-- 440000 Guangdong, 440300 Shenzhen, 440305 Nanshan; 100000 for national
-- bodies). The CHECK keeps malformed codes out even of hand-written SQL; that
-- a child's code lies within its parent's region, and that parents form no
-- cycle, are checked by the admin API (a CHECK cannot read another row).
CREATE TABLE IF NOT EXISTS departments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'e.g. sz-tax; in URLs and references',
    display_name VARCHAR(200) NOT NULL COMMENT 'the official name, e.g. 国家税务总局深圳市税务局',
    region_code CHAR(6) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    parent_id BIGINT UNSIGNED NULL COMMENT 'NULL: a top-level department',
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY departments_name (name),
    KEY departments_region (region_code),
    CONSTRAINT departments_region_code CHECK (region_code REGEXP '^[1-8][0-9]{5}$'),
    CONSTRAINT departments_parent_fk FOREIGN KEY (parent_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Rate policies that routes refer to: a token bucket of `requests` per
-- `per_s` seconds with room for `burst`, counted per key_by. NULL department:
-- a platform-wide policy that only platform admins manage.
CREATE TABLE IF NOT EXISTS rate_policies (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    department_id BIGINT UNSIGNED NULL,
    description VARCHAR(500) NOT NULL DEFAULT '',
    requests INT UNSIGNED NOT NULL,
    per_s INT UNSIGNED NOT NULL,
    burst INT UNSIGNED NOT NULL,
    key_by ENUM('client_ip', 'client_id', 'subject', 'route') NOT NULL,
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY rate_policies_name (name),
    CONSTRAINT rate_policies_requests CHECK (requests BETWEEN 1 AND 1000000000),
    CONSTRAINT rate_policies_per_s CHECK (per_s BETWEEN 1 AND 86400),
    CONSTRAINT rate_policies_burst CHECK (burst BETWEEN 1 AND 1000000000),
    CONSTRAINT rate_policies_department_fk FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Department services. `spec` is the service object of the config file
-- (schemas/json/service.schema.json) without name and department: targets,
-- balancer, timeouts, retries, max_in_flight, passive_health,
-- keepalive_timeout_ms, health_check, exactly as the admin wrote it. Targets
-- live in it rather than in a table of their own because nothing refers to a
-- single target, they are always read and replaced with their service (order
-- and weights included), and defaults stay the loader's (common/config.c)
-- instead of being frozen into columns at write time: the snapshot is built
-- by handing these documents to the same loader the config file goes through.
CREATE TABLE IF NOT EXISTS services (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    department_id BIGINT UNSIGNED NOT NULL,
    spec MEDIUMTEXT NOT NULL COMMENT 'JSON: the service object minus name and department',
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY services_name (name),
    CONSTRAINT services_spec_json CHECK (JSON_VALID(spec) AND JSON_TYPE(spec) = 'OBJECT'),
    CONSTRAINT services_department_fk FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- OAuth scopes, each owned by the department whose data it opens, e.g.
-- tax:invoice:read. The OpenID Connect scopes (openid, profile, phone,
-- email) are built in and not listed here.
CREATE TABLE IF NOT EXISTS scopes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    department_id BIGINT UNSIGNED NOT NULL,
    display_name VARCHAR(200) NOT NULL COMMENT 'what the consent page shows, e.g. 查询发票',
    description VARCHAR(1000) NOT NULL DEFAULT '',
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY scopes_name (name),
    CONSTRAINT scopes_name_chars CHECK (name REGEXP '^[A-Za-z0-9._:-]{1,128}$'),
    CONSTRAINT scopes_department_fk FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Routes: the route object of the config file, one column per member, since
-- every member is a plain value and several are references the database must
-- check. `methods` NULL means all methods (the member is absent);
-- max_body_bytes NULL means the default. host_key/prefix_key are the host and
-- prefix as the route table compares them (no host = '', lower case, no
-- trailing '/'), for finding the routes that may conflict with a new one.
-- They are not UNIQUE: two routes may share a host and prefix when their
-- methods are disjoint (GET to a read service, POST to a write service), as
-- in the config file; the admin API checks overlaps with the route table's
-- own rules while it holds the registry_version lock.
CREATE TABLE IF NOT EXISTS routes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    host VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'NULL: any host',
    path_prefix VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    host_key VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin AS (IFNULL(host, '')) STORED,
    prefix_key VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin AS (LOWER(TRIM(TRAILING '/' FROM path_prefix))) STORED,
    methods SET('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') NULL COMMENT 'NULL: all methods',
    service_id BIGINT UNSIGNED NOT NULL,
    strip_prefix TINYINT(1) NOT NULL DEFAULT 0,
    max_body_bytes BIGINT UNSIGNED NULL COMMENT 'NULL: the default (1 MiB or limits.max_body_bytes)',
    auth_policy ENUM('public', 'user', 'client') NOT NULL DEFAULT 'public',
    min_acr TINYINT UNSIGNED NOT NULL DEFAULT 0,
    forward_authorization TINYINT(1) NOT NULL DEFAULT 0,
    rate_policy_id BIGINT UNSIGNED NULL,
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY routes_name (name),
    KEY routes_match (host_key, prefix_key),
    CONSTRAINT routes_methods_not_empty CHECK (methods IS NULL OR methods <> ''),
    CONSTRAINT routes_max_body_bytes CHECK (max_body_bytes IS NULL OR max_body_bytes <= 1073741824),
    CONSTRAINT routes_min_acr CHECK (min_acr BETWEEN 0 AND 3),
    CONSTRAINT routes_service_fk FOREIGN KEY (service_id) REFERENCES services (id) ON DELETE RESTRICT,
    CONSTRAINT routes_rate_policy_fk FOREIGN KEY (rate_policy_id) REFERENCES rate_policies (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The scopes a route requires (auth.scopes): a table rather than a list in
-- the route row so that deleting a scope still required is refused by the
-- database. A route's rows go with the route.
CREATE TABLE IF NOT EXISTS route_scopes (
    route_id BIGINT UNSIGNED NOT NULL,
    scope_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (route_id, scope_id),
    KEY route_scopes_scope (scope_id),
    CONSTRAINT route_scopes_route_fk FOREIGN KEY (route_id) REFERENCES routes (id) ON DELETE CASCADE,
    CONSTRAINT route_scopes_scope_fk FOREIGN KEY (scope_id) REFERENCES scopes (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The host and path prefixes a platform admin has given a department. A
-- department admin may only create routes inside their department's
-- namespaces: otherwise one department could claim /tax/invoices for its own
-- service and receive another department's traffic (longest prefix wins).
CREATE TABLE IF NOT EXISTS route_namespaces (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    department_id BIGINT UNSIGNED NOT NULL,
    host VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'NULL: any host',
    path_prefix VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    host_key VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin AS (IFNULL(host, '')) STORED,
    prefix_key VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin AS (LOWER(TRIM(TRAILING '/' FROM path_prefix))) STORED,
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY route_namespaces_match (host_key, prefix_key),
    KEY route_namespaces_department (department_id),
    CONSTRAINT route_namespaces_department_fk FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- People (and automation) allowed to use the admin API. A department admin
-- belongs to exactly one department; the other roles to none.
CREATE TABLE IF NOT EXISTS admin_accounts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(63) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    display_name VARCHAR(128) NOT NULL DEFAULT '',
    role ENUM('platform_admin', 'department_admin', 'auditor', 'operator') NOT NULL,
    department_id BIGINT UNSIGNED NULL,
    status ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY admin_accounts_name (name),
    CONSTRAINT admin_accounts_department_role CHECK ((role = 'department_admin') = (department_id IS NOT NULL)),
    CONSTRAINT admin_accounts_department_fk FOREIGN KEY (department_id) REFERENCES departments (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- API tokens of admin accounts ("ywadm_" + 43 base64url characters, shown
-- once). Only HMAC-SHA256 of the whole token under the "token hash" key is
-- stored, so neither a dump nor a write to this table yields a usable token.
-- `id` is a public handle for listing and revoking. Deleting an account
-- deletes its tokens; the audit log keeps the account's name.
CREATE TABLE IF NOT EXISTS admin_tokens (
    id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    account_id BIGINT UNSIGNED NOT NULL,
    token_hash BINARY(32) NOT NULL,
    label VARCHAR(128) NOT NULL DEFAULT '',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at DATETIME(6) NULL COMMENT 'NULL: until revoked',
    last_used_at DATETIME(6) NULL,
    revoked_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY admin_tokens_hash (token_hash),
    KEY admin_tokens_account (account_id),
    CONSTRAINT admin_tokens_account_fk FOREIGN KEY (account_id) REFERENCES admin_accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every admin write, appended in the transaction of the write itself, so a
-- change and its record commit or vanish together. Append-only: the admin API
-- has no statement that updates or deletes a row, and in production the
-- gateway's database user is granted only INSERT and SELECT on this table
-- (docs/registry.md §6; retention is the DBA's job, with their own account).
-- No foreign keys, on purpose: a record must outlive the account, the
-- department and the entity it names, and must never block their deletion.
-- diff_before/diff_after hold only the members that changed (the whole
-- entity for create and delete); secrets and their hashes are never written
-- here, only the fact that a secret changed.
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    registry_version BIGINT UNSIGNED NOT NULL COMMENT 'the version this write produced',
    occurred_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    actor VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'admin account name, or cli:<os user>',
    actor_role ENUM('platform_admin', 'department_admin', 'auditor', 'operator', 'cli') NOT NULL,
    action VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'create, replace, patch, delete, rotate_secret, ...',
    entity_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'department, service, route, client, ...',
    entity_key VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'the name or client_id the URL uses',
    department_id BIGINT UNSIGNED NULL COMMENT 'owning department of the entity, for department-scoped reading',
    diff_before MEDIUMTEXT NULL,
    diff_after MEDIUMTEXT NULL,
    request_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    source_address VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY audit_log_time (occurred_at),
    KEY audit_log_version (registry_version),
    KEY audit_log_entity (entity_type, entity_key, id),
    KEY audit_log_actor (actor, id),
    KEY audit_log_department (department_id, id),
    CONSTRAINT audit_log_diff_before_json CHECK (diff_before IS NULL OR JSON_VALID(diff_before)),
    CONSTRAINT audit_log_diff_after_json CHECK (diff_after IS NULL OR JSON_VALID(diff_after))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- OAuth clients (002) become registry entities rather than a second table:
-- the token endpoints keep reading the rows they read today. Added: the
-- owning department (NULL for third parties, whose organisation stays in the
-- free-text `owner`), the browser origins allowed to call the API (CORS,
-- exact origins as a JSON array like redirect_uris) and the ETag version
-- (0 for clients created before the registry, e.g. by `yiwang clients add`).
-- The secret rotation overlap needs nothing new: previous_secret_hash and
-- previous_secret_expires_at have been there since 002.
ALTER TABLE oauth_clients
    ADD COLUMN IF NOT EXISTS owner_department_id BIGINT UNSIGNED NULL COMMENT 'NULL: a third party' AFTER owner,
    ADD COLUMN IF NOT EXISTS cors_origins TEXT NOT NULL DEFAULT '[]' CHECK (JSON_VALID(cors_origins)),
    ADD COLUMN IF NOT EXISTS version BIGINT UNSIGNED NOT NULL DEFAULT 0;

ALTER TABLE oauth_clients
    ADD CONSTRAINT oauth_clients_owner_department_fk FOREIGN KEY IF NOT EXISTS (owner_department_id)
        REFERENCES departments (id) ON DELETE RESTRICT;
