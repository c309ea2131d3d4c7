DROP TABLE admin_settings;
DROP INDEX audit_log_at;
DROP TABLE audit_log;
DROP INDEX admin_sessions_admin;
DROP TABLE admin_sessions;
DROP TABLE admins;
