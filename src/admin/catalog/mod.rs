//! The catalog team's work: creating and changing the services customers can buy.

pub mod api;
pub mod service;
