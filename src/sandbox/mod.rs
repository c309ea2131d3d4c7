//! The built-in sandbox gateway: plays a real gateway's part on one machine — a hosted card
//! page, a 3-D Secure challenge step, test cards, and signed server-to-server callbacks
//! delivered (with retries) to `/api/v1/payments/sandbox/callback` — or, with `sandbox_dialect`,
//! in a real gateway's format to the sandbox's own callback for it, signed with sandbox-only
//! secrets (never the gateway's live ones). Off in production.

pub mod cards;
pub mod deliver;
pub mod dialects;
pub mod model;
pub mod pages;
