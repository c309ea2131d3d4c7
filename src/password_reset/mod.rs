//! Forgot password: a request by email address or login (the same answer, work and timing for
//! unknown ones, throttled per address in the database and per IP), a single-use link valid
//! one hour made inside the email job, and the confirmation that sets the new password and
//! ends every session of the account. Also "your password was changed" emails.

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
