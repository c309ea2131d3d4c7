-- Why a paid order was not provisioned (e.g. account_revoked): set by the payment, shown to admins.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS hold_reason TEXT;
