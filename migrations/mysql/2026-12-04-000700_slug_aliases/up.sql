-- Issue 10, slug rename: a renamed service keeps its old slugs as aliases, so links and forms
-- that name an old slug (`/buy/<old>`, `service=<old>`) still reach it. MariaDB translation.
CREATE TABLE IF NOT EXISTS slug_aliases (
    alias VARCHAR(191) NOT NULL PRIMARY KEY,
    service_slug VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX slug_aliases_service (service_slug),
    CONSTRAINT slug_aliases_service_slug_fkey FOREIGN KEY (service_slug) REFERENCES services (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
