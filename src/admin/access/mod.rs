//! Who may administer: admin accounts and their roles, login and sessions with TOTP,
//! re-authentication for high-value actions, and reading the audit log.

pub mod admins_api;
pub mod api_keys_api;
pub mod audit_api;
pub mod auth;
pub mod model;
pub mod reauth;
pub mod roles;
pub mod service;
pub mod session_api;
pub mod totp;
