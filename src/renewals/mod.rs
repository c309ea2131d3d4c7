//! Renewals (DESIGN §7): the renewal link a reminder email carries, the page behind it, and
//! the order it makes for the same account.

pub mod model;
