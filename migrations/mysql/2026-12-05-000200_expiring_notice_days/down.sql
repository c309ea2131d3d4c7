-- The claims of the 7-day reminder back under the kind the older version reads.
UPDATE access_notices SET kind = 'access.expiring' WHERE kind = 'access.expiring:7';
