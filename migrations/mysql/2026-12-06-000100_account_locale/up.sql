-- The language a customer's account emails and cabinet speak (DESIGN §8): `en`, `ru`, `pl` or
-- `sr`. An existing account takes the language of its latest order, where that is one of these.
-- MariaDB translation: a multi-table UPDATE (UPDATE ... JOIN) on a derived table that ranks
-- each account's orders (ROW_NUMBER, MariaDB 10.2+) instead of PostgreSQL's correlated
-- subquery with ORDER BY ... LIMIT 1; accounts without such an order keep the default 'en'.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS locale TEXT NOT NULL DEFAULT 'en';
UPDATE accounts a
JOIN (
    SELECT account_id, lang,
           ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY created_at DESC) AS rn
    FROM (
        SELECT o.account_id, o.created_at, LOWER(SUBSTRING(o.locale, 1, 2)) AS lang
        FROM orders o
        WHERE o.account_id IS NOT NULL
    ) AS l
    WHERE lang IN ('en', 'ru', 'pl', 'sr')
) AS latest ON latest.account_id = a.id AND latest.rn = 1
SET a.locale = latest.lang;
