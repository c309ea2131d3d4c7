//! Background work: the outbox mail worker and the periodic sweeps.

pub mod access_expiry;
pub mod backups;
pub mod emails;
pub mod order_notices;
pub mod queues;
pub mod renewal_emails;
pub mod sweeps;
pub mod webhook_worker;
pub mod worker;
