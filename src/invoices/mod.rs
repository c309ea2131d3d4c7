//! Pay-by-link invoices: an administrator invoices a customer for a catalog service or a free
//! description; the customer opens the link, accepts the terms, pays at a gateway, and the
//! order is provisioned like any other (the merchant gets a copy of the confirmation).
//!
//! `service.rs` owns the rules and the creating transaction, `model.rs` the queries,
//! `pages.rs` the customer's page; the admin API is `admin/sales/invoices_api.rs`.

pub mod model;
pub mod pages;
pub mod send;
pub mod service;
