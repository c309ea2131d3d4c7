-- The indexes go with their tables (admin_sessions_admin backs a foreign key and cannot be
-- dropped on its own in MariaDB).
DROP TABLE IF EXISTS admin_settings;
DROP TABLE IF EXISTS audit_log;
DROP TABLE IF EXISTS admin_sessions;
DROP TABLE IF EXISTS admins;
