//! Customer support: finding, suspending, reinstating, revoking and extending customer
//! accounts, resending credentials, and customers' data requests (export, erasure); the list
//! of customers' accesses by state.

pub mod accesses;
pub mod api;
pub mod privacy;
pub mod service;
