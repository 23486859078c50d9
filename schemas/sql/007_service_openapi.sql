-- 007_service_openapi.sql — each service's OpenAPI document, uploaded through
-- the admin API (PUT /admin/v1/services/<name>/openapi; docs/registry.md §8,
-- decision on §9 question 4). Nodes read it with the rest of the registry and
-- merge it into GET /openapi.json once per snapshot.
--
-- Conventions as in 006: every statement can run twice, times are
-- DATETIME(6) in UTC, `version` is the registry version of the last write
-- (the document's ETag) and has no default.
--
-- Uploaded, not fetched from the service: a node never makes an outbound
-- request to build a snapshot, an upload is audited like every other registry
-- write, and the document every node serves is the one the version names.
--
-- The document belongs to its service and means nothing without it, so the
-- foreign key CASCADEs (unlike the RESTRICT references between entities): a
-- service can be deleted without first deleting its documentation. The size
-- cap (1 MiB) is the admin API's request body limit; the column only needs to
-- hold that. `sha256` and `size_bytes` are what the audit log records
-- instead of the document.
CREATE TABLE IF NOT EXISTS service_openapi (
    service_id BIGINT UNSIGNED NOT NULL,
    document MEDIUMTEXT NOT NULL COMMENT 'JSON: an OpenAPI 3.0.x or 3.1.x document',
    sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'hex SHA-256 of document as stored',
    size_bytes INT UNSIGNED NOT NULL,
    version BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (service_id),
    CONSTRAINT service_openapi_document_json CHECK (JSON_VALID(document) AND JSON_TYPE(document) = 'OBJECT'),
    CONSTRAINT service_openapi_size CHECK (size_bytes <= 1048576),
    CONSTRAINT service_openapi_service_fk FOREIGN KEY (service_id) REFERENCES services (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
