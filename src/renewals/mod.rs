//! Renewals (DESIGN §7): the renewal link a reminder email carries, the page behind it, and
//! the order it makes for the same account (also from the cabinet's Renew button).

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
