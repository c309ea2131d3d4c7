//! Customer sessions: login, logout, session tokens (stored hashed), timeouts and the
//! failed-login counter.

pub mod api;
pub mod model;
pub mod service;
