//! The doors to the paid service (DESIGN §6): forward authentication for web servers
//! (`/auth/verify`), server API keys and the two calls they authorise (`GET /access`,
//! `POST /access/check`), and the return URLs a door may send a customer back to. Every door
//! decides with `accounts::access` (one truth: the account's state and each access's end + grace).

pub mod api;
pub mod forward;
pub mod model;
pub mod returns;
pub mod service;
