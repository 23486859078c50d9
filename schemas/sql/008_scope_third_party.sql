-- 008_scope_third_party.sql — which scopes a third party may be given
-- (docs/registry.md §2). GET /v1/catalog lists only these, and the admin API
-- refuses an internal scope in the allowed_scopes of a client of kind
-- third_party.
--
-- Conventions as in 006: every statement can run twice.
--
-- The default is FALSE so that the migration fails closed: every scope that
-- exists today stays internal until its department opens it to integrators
-- (PATCH /admin/v1/scopes/<name> {"third_party": true}).
ALTER TABLE scopes
    ADD COLUMN IF NOT EXISTS third_party BOOLEAN NOT NULL DEFAULT FALSE
        COMMENT 'whether a client of kind third_party may be allowed this scope; GET /v1/catalog lists only these';
