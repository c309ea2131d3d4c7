//! Email: the transactional outbox, the templates and the transports.

pub mod dkim;
pub mod outbox;
pub mod templates;
pub mod transport;
