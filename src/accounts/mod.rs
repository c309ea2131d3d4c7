//! Customer accounts: provisioning, credentials, email verification, password change and
//! the cabinet (`/api/v1/me`).

pub mod access;
pub mod api;
pub mod export;
pub mod model;
pub mod pages;
pub mod password;
pub mod service;
