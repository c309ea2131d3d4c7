//! Capture, cancel and refund through real gateways' APIs (their API base URLs are settings,
//! so tests point them at local fakes).

use super::{OpAnswer, OpRequest, Unreachable};
use crate::state::AppState;

/// Performs `req` at `gateway` (never "sandbox": the sandbox is handled in-process).
pub async fn perform(state: &AppState, gateway: &str, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let _ = state;
    Ok(OpAnswer::Unsupported(format!("{gateway} offers no {} through keyturn yet", req.kind.as_str())))
}
