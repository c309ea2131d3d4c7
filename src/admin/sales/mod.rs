//! Sales: reading orders with their payments and callbacks, pay-by-link invoices, and payment
//! operations (capture, cancel, refund), and gateway events that name no order of ours.

pub mod invoices_api;
pub mod model;
pub mod orders_api;
pub mod payments_api;
pub mod unmatched_api;
