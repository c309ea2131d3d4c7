-- Reminder claims name their day since 2026-12-04-000200 (`access.expiring:<day>`). Claims
-- written before it say `access.expiring` (the one reminder of that version, 7 days before the
-- end): they become `access.expiring:7`, so an upgraded install does not send that reminder
-- again. Where a `:7` claim exists already for the same access and period end, the old row is
-- only removed. MariaDB translation: an UPDATE whose subquery reads its own table is allowed
-- since MariaDB 10.3.2 (MySQL refuses it with error 1093).
UPDATE access_notices SET kind = 'access.expiring:7'
WHERE kind = 'access.expiring'
  AND NOT EXISTS (
    SELECT 1 FROM access_notices AS n
    WHERE n.account_id = access_notices.account_id
      AND n.service_slug = access_notices.service_slug
      AND n.period_end = access_notices.period_end
      AND n.kind = 'access.expiring:7'
  );
DELETE FROM access_notices WHERE kind = 'access.expiring';
