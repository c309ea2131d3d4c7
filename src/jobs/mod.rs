//! Background work: the outbox mail worker and the periodic sweeps.

pub mod emails;
pub mod sweeps;
pub mod worker;
