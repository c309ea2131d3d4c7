//! Services that can be bought.

pub mod aliases;
pub mod api;
pub mod model;
pub mod service;
