//! Payment records and callback handling: verify a gateway's raw request, then apply its
//! event in one transaction (dedupe, cross-check, state, account, outbox).

pub mod api;
pub mod gateways;
pub mod model;
pub mod pages;
pub mod service;
pub mod start;
