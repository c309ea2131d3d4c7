//! Signed outgoing webhooks (Standard Webhooks) for services that keep their own users: the
//! endpoints owners manage (`api`, `service`), the events written in the transaction of each
//! change (`events`), their storage and claims (`model`) and the SSRF-safe sending (`deliver`).
//! The delivery worker and the expiry sweep live in `jobs`.

pub mod api;
pub mod deliver;
pub mod events;
pub mod model;
pub mod service;
