//! The email outbox as admins see it, and sending given-up emails again.

pub mod api;
pub mod service;
