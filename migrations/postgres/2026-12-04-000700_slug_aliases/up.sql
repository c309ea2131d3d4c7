-- Issue 10, slug rename: a renamed service keeps its old slugs as aliases, so links and forms
-- that name an old slug (`/buy/<old>`, `service=<old>`) still reach it.
CREATE TABLE slug_aliases (
    alias TEXT PRIMARY KEY NOT NULL,
    service_slug TEXT NOT NULL REFERENCES services (slug),
    created_at BIGINT NOT NULL
);
CREATE INDEX slug_aliases_service ON slug_aliases (service_slug);
