-- The language a customer's account emails and cabinet speak (DESIGN §8): `en`, `ru`, `pl` or
-- `sr`. An existing account takes the language of its latest order, where that is one of these.
ALTER TABLE accounts ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
UPDATE accounts SET locale = COALESCE((
    SELECT lower(substr(o.locale, 1, 2)) FROM orders o
    WHERE o.account_id = accounts.id AND lower(substr(o.locale, 1, 2)) IN ('en', 'ru', 'pl', 'sr')
    ORDER BY o.created_at DESC
    LIMIT 1
), 'en');
