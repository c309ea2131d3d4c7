//! Payment records and callback handling: verify a gateway's raw request, then apply its
//! event in one transaction (dedupe, cross-check, state, account, outbox); start payments at
//! gateways and, when a callback is lost, ask the gateway instead (`reconcile`).

pub mod api;
pub mod gateways;
pub mod model;
pub mod next_steps;
pub mod ops;
pub mod pages;
pub mod reconcile;
pub mod recurring;
mod refunds;
pub mod service;
pub mod start;
pub mod starts;
