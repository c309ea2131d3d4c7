//! Order intake (JSON API and site-builder forms) and the order state machine.

pub mod api;
pub mod form;
pub mod model;
pub mod service;
